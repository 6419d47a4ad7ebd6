package modbus

import (
	"encoding/binary"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
)

const (
	fcMEI          = 0x2B
	meiDeviceIdent = 0x0E
	readBasic      = 0x01
	readRegular    = 0x02
	maxPDU         = 253
)

// Request builds a Read Device Identification request (FC 43 / MEI 14)
// starting at object id obj.
func Request(txid uint16, unit, code, obj byte) []byte {
	b := make([]byte, 11)
	binary.BigEndian.PutUint16(b[0:], txid)
	binary.BigEndian.PutUint16(b[2:], 0) // protocol id: Modbus
	binary.BigEndian.PutUint16(b[4:], 5) // unit + PDU
	b[6] = unit
	b[7], b[8], b[9], b[10] = fcMEI, meiDeviceIdent, code, obj
	return b
}

// Response is a parsed Read Device Identification reply.
type Response struct {
	TxID        uint16
	Unit        byte
	Exception   byte // non-zero: the device answered with an exception
	Conformity  byte
	MoreFollows bool
	NextObject  byte
	Objects     map[byte]string
}

// ParseResponse parses one MBAP frame holding an FC 43/14 reply or an
// exception; it returns the frame length consumed.
func ParseResponse(b []byte) (*Response, int, error) {
	if len(b) < 8 {
		return nil, 0, scan.ProtocolError("modbus: short frame")
	}
	if binary.BigEndian.Uint16(b[2:]) != 0 {
		return nil, 0, scan.ProtocolError("modbus: protocol id %d", binary.BigEndian.Uint16(b[2:]))
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < 2 || n > maxPDU+1 || len(b) < 6+n {
		return nil, 0, scan.ProtocolError("modbus: bad length %d", n)
	}
	r := &Response{TxID: binary.BigEndian.Uint16(b), Unit: b[6], Objects: map[byte]string{}}
	pdu := b[7 : 6+n]
	switch pdu[0] {
	case fcMEI | 0x80:
		if len(pdu) < 2 {
			return nil, 0, scan.ProtocolError("modbus: short exception")
		}
		r.Exception = pdu[1]
		return r, 6 + n, nil
	case fcMEI:
	default:
		return nil, 0, scan.ProtocolError("modbus: function 0x%02x", pdu[0])
	}
	if len(pdu) < 7 || pdu[1] != meiDeviceIdent {
		return nil, 0, scan.ProtocolError("modbus: short device identification")
	}
	r.Conformity = pdu[3]
	r.MoreFollows = pdu[4] == 0xFF
	r.NextObject = pdu[5]
	count := int(pdu[6])
	p := pdu[7:]
	for range count {
		if len(p) < 2 || len(p) < 2+int(p[1]) {
			return nil, 0, scan.ProtocolError("modbus: truncated object")
		}
		r.Objects[p[0]] = strings.ToValidUTF8(string(p[2:2+int(p[1])]), "\uFFFD")
		p = p[2+int(p[1]):]
	}
	return r, 6 + n, nil
}
