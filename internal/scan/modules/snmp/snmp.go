// Package snmp is the scanner's SNMP reflector probe: an SNMPv2c GetRequest
// for sysDescr.0 with the community "public", reporting the description and
// the amplification factor. It reads one well-known object and sets nothing.
package snmp

import (
	"bytes"
	"context"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
)

// sysDescr.0 = 1.3.6.1.2.1.1.1.0, BER-encoded.
var oidSysDescr = []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}

const requestID = 0x4b53

// Request is the GetRequest probe.
var Request = buildRequest("public", requestID)

func tlv(tag byte, v []byte) []byte {
	n := len(v)
	switch {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, v...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, v...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, v...)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func buildRequest(community string, id int) []byte {
	varbind := tlv(0x30, cat(tlv(0x06, oidSysDescr), []byte{0x05, 0x00}))
	pdu := tlv(0xa0, cat(
		tlv(0x02, []byte{byte(id >> 8), byte(id)}),
		tlv(0x02, []byte{0}), tlv(0x02, []byte{0}),
		tlv(0x30, varbind),
	))
	return tlv(0x30, cat(tlv(0x02, []byte{1}), tlv(0x04, []byte(community)), pdu))
}

// readTLV reads one BER element (definite lengths up to 4 bytes).
func readTLV(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, scan.ProtocolError("snmp: short element")
	}
	tag = b[0]
	n := int(b[1])
	off := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, scan.ProtocolError("snmp: bad length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		off += k
	}
	if n < 0 || n > len(b)-off {
		return 0, nil, nil, scan.ProtocolError("snmp: element overruns packet")
	}
	return tag, b[off : off+n], b[off+n:], nil
}

func expect(b []byte, want byte) ([]byte, []byte, error) {
	tag, v, rest, err := readTLV(b)
	if err != nil {
		return nil, nil, err
	}
	if tag != want {
		return nil, nil, scan.ProtocolError("snmp: tag 0x%02x, want 0x%02x", tag, want)
	}
	return v, rest, nil
}

// Reply is a parsed GetResponse.
type Reply struct {
	Version     int
	Community   string
	ErrorStatus int
	SysDescr    string
}

// ParseReply parses a GetResponse to the sysDescr request.
func ParseReply(b []byte) (*Reply, error) {
	msg, _, err := expect(b, 0x30)
	if err != nil {
		return nil, err
	}
	ver, rest, err := expect(msg, 0x02)
	if err != nil || len(ver) != 1 {
		return nil, scan.ProtocolError("snmp: bad version")
	}
	comm, rest, err := expect(rest, 0x04)
	if err != nil {
		return nil, err
	}
	pdu, _, err := expect(rest, 0xa2)
	if err != nil {
		return nil, err
	}
	r := &Reply{Version: int(ver[0]), Community: strings.ToValidUTF8(string(comm), "\uFFFD")}
	_, pdu, err = expect(pdu, 0x02) // request id
	if err != nil {
		return nil, err
	}
	es, pdu, err := expect(pdu, 0x02)
	if err != nil || len(es) == 0 {
		return nil, scan.ProtocolError("snmp: bad error-status")
	}
	r.ErrorStatus = int(es[len(es)-1])
	_, pdu, err = expect(pdu, 0x02) // error index
	if err != nil {
		return nil, err
	}
	vbl, _, err := expect(pdu, 0x30)
	if err != nil {
		return nil, err
	}
	for len(vbl) > 0 {
		var vb []byte
		vb, vbl, err = expect(vbl, 0x30)
		if err != nil {
			return nil, err
		}
		oid, rest, err := expect(vb, 0x06)
		if err != nil {
			return nil, err
		}
		tag, val, _, err := readTLV(rest)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(oid, oidSysDescr) && tag == 0x04 {
			v := val
			if len(v) > 1024 {
				v = v[:1024]
			}
			r.SysDescr = strings.ToValidUTF8(string(v), "\uFFFD")
		}
	}
	return r, nil
}

// Result is what the probe saw.
type Result struct {
	Community     string             `json:"community"`
	SysDescr      string             `json:"sys_descr,omitempty"`
	Amplification scan.Amplification `json:"amplification"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "snmp", Banner: r.SysDescr, Reflector: r.Amplification.Factor > 1, Amplification: r.Amplification.Factor}
}

// Module is the SNMP probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "snmp" }
func (Module) Protocol() string    { return "snmp" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 161 }

// Scan sends the GetRequest.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	pkts, amp, err := scan.ExchangeUDP(ctx, t, Request)
	if err != nil {
		return scan.UDPStatus(err), nil, err
	}
	var lastErr error
	for _, p := range pkts {
		r, err := ParseReply(p)
		if err != nil {
			lastErr = err
			continue
		}
		if r.ErrorStatus != 0 {
			return scan.StatusApplicationError, &Result{Community: r.Community, Amplification: amp}, nil
		}
		return scan.StatusSuccess, &Result{Community: r.Community, SysDescr: r.SysDescr, Amplification: amp}, nil
	}
	return scan.StatusProtocolError, nil, lastErr
}
