package rdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// TPKT (RFC 1006) framing and the X.224 (ISO 8073 class 0) TPDUs RDP
// speaks before any security layer, as MS-RDPBCGR 2.2.1.1 and 2.2.1.2
// describe them.

// maxTPKT bounds one TPKT packet: the length field allows 65535 bytes and
// the first packets of a connection are far smaller.
const maxTPKT = 1<<16 - 1

// Protocol flags of RDP_NEG_REQ.requestedProtocols and
// RDP_NEG_RSP.selectedProtocol (MS-RDPBCGR 2.2.1.1.1).
const (
	ProtoRDP      = 0x00000000 // standard RDP security (RC4), no TLS
	ProtoSSL      = 0x00000001 // TLS
	ProtoHybrid   = 0x00000002 // CredSSP (NLA)
	ProtoRDSTLS   = 0x00000004
	ProtoHybridEx = 0x00000008 // CredSSP with the Early User Authorization Result PDU
	ProtoRDSAAD   = 0x00000010
)

// RDP_NEG_FAILURE codes (MS-RDPBCGR 2.2.1.2.2).
const (
	failSSLRequired    = 0x00000001
	failSSLNotAllowed  = 0x00000002
	failHybridRequired = 0x00000005
)

var errNotTPKT = errors.New("not a TPKT packet")

// readTPKT reads one TPKT packet and returns its payload (without the
// 4-byte header).
func readTPKT(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	if h[0] != 3 {
		return nil, fmt.Errorf("rdp: %w: first bytes %x", errNotTPKT, h)
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n < 7 || n > maxTPKT {
		return nil, fmt.Errorf("rdp: %w: first bytes %x, length %d", errNotTPKT, h, n)
	}
	p := make([]byte, n-4)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, fmt.Errorf("rdp: read tpkt payload: %w", err)
	}
	return p, nil
}

func tpkt(payload []byte) []byte {
	out := make([]byte, 4, 4+len(payload))
	out[0] = 3
	binary.BigEndian.PutUint16(out[2:], uint16(4+len(payload)))
	return append(out, payload...)
}

// ConnectionRequest is the client's X.224 Connection Request as sent: the
// first packet of every RDP connection, and the one scanners send most.
type ConnectionRequest struct {
	// Cookie is the routing cookie's value ("Cookie: mstshash=NAME"): the
	// user name, often truncated to 9 characters by mstsc.
	Cookie string `json:"cookie,omitempty"`
	// RoutingToken is a load balancer token ("Cookie: msts=…") or any
	// other text line in its place.
	RoutingToken string `json:"routing_token,omitempty"`
	// HasNegReq tells whether an RDP_NEG_REQ followed; clients older than
	// RDP 5.2 (and some scanners) send none.
	HasNegReq          bool   `json:"neg_req"`
	Flags              byte   `json:"flags"`
	RequestedProtocols uint32 `json:"requested_protocols"`
	// CorrelationID is the RDP_NEG_CORRELATION_INFO id, hex.
	CorrelationID string `json:"correlation_id,omitempty"`
	// Trailing counts bytes after the known structures.
	Trailing int `json:"trailing,omitempty"`
}

// ParseConnectionRequest parses the X.224 CR TPDU (the TPKT payload).
func ParseConnectionRequest(p []byte) (*ConnectionRequest, error) {
	if len(p) < 7 {
		return nil, errors.New("rdp: x224 connection request too short")
	}
	li := int(p[0])
	if p[1]&0xf0 != 0xe0 {
		return nil, fmt.Errorf("rdp: x224 tpdu code %#02x is not a connection request", p[1])
	}
	if li+1 > len(p) || li < 6 {
		return nil, fmt.Errorf("rdp: x224 length indicator %d over %d bytes", li, len(p))
	}
	cr := &ConnectionRequest{}
	rest := p[7 : li+1]
	trailing := len(p) - (li + 1)
	// The cookie or routing token is a text line ending in CR LF.
	if i := bytes.Index(rest, []byte("\r\n")); i >= 0 && len(rest) > 0 && rest[0] != 0x01 {
		line := string(rest[:i])
		if v, ok := strings.CutPrefix(line, "Cookie: mstshash="); ok {
			cr.Cookie = v
		} else {
			cr.RoutingToken = line
		}
		rest = rest[i+2:]
	}
	if len(rest) >= 8 && rest[0] == 0x01 {
		cr.HasNegReq = true
		cr.Flags = rest[1]
		cr.RequestedProtocols = binary.LittleEndian.Uint32(rest[4:8])
		rest = rest[8:]
	}
	if len(rest) >= 36 && rest[0] == 0x06 {
		cr.CorrelationID = fmt.Sprintf("%x", rest[4:20])
		rest = rest[36:]
	}
	cr.Trailing = len(rest) + trailing
	return cr, nil
}

// ProtocolNames spells out a requestedProtocols mask.
func ProtocolNames(m uint32) []string {
	out := []string{"rdp"}
	if m == ProtoRDP {
		return out
	}
	out = out[:0]
	for _, p := range []struct {
		bit  uint32
		name string
	}{{ProtoSSL, "ssl"}, {ProtoHybrid, "hybrid"}, {ProtoRDSTLS, "rdstls"}, {ProtoHybridEx, "hybrid_ex"}, {ProtoRDSAAD, "rdsaad"}} {
		if m&p.bit != 0 {
			out = append(out, p.name)
		}
	}
	if rest := m &^ 0x1f; rest != 0 {
		out = append(out, fmt.Sprintf("unknown_%#x", rest))
	}
	return out
}

// connectionConfirm builds the X.224 Connection Confirm with an
// RDP_NEG_RSP selecting proto, or without one when the client sent no
// RDP_NEG_REQ. The flags are what Windows 10 and Server 2016 and later
// set: extended client data, the graphics pipeline, restricted admin and
// redirected authentication supported.
func connectionConfirm(proto uint32, withNeg bool) []byte {
	cc := []byte{6, 0xd0, 0, 0, 0x12, 0x34, 0}
	if withNeg {
		cc[0] = 14
		cc = append(cc, 0x02, 0x1f, 8, 0, 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(cc[11:], proto)
	}
	return tpkt(cc)
}

// negotiationFailure builds the Connection Confirm carrying an
// RDP_NEG_FAILURE with code.
func negotiationFailure(code uint32) []byte {
	cc := []byte{14, 0xd0, 0, 0, 0x12, 0x34, 0, 0x03, 0, 8, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(cc[11:], code)
	return tpkt(cc)
}

// ClientConnect is what an MCS Connect Initial (T.125) carries in its GCC
// Conference Create Request user data (MS-RDPBCGR 2.2.1.3): the client's
// core data and the static virtual channels it asks for. BlueKeep
// (CVE-2019-0708) probes ask for a channel named MS_T120, which only the
// server may bind.
type ClientConnect struct {
	Version       uint32   `json:"version"`
	Width, Height uint16   `json:"-"`
	Keyboard      uint32   `json:"keyboard_layout"`
	Build         uint32   `json:"client_build"`
	Name          string   `json:"client_name"`
	Channels      []string `json:"channels"`
	// MST120 is the index of a channel named MS_T120, or -1.
	MST120 int `json:"-"`
}

// ParseConnectInitial parses the X.224 Data TPDU holding an MCS Connect
// Initial. It is lenient where clients differ (BER lengths, PER in the GCC
// header): it finds the client data blocks after the "Duca" key.
func ParseConnectInitial(p []byte) (*ClientConnect, error) {
	if len(p) < 3 || p[1] != 0xf0 {
		return nil, errors.New("rdp: not an x224 data tpdu")
	}
	p = p[3:]
	if len(p) < 2 || p[0] != 0x7f || p[1] != 0x65 {
		return nil, errors.New("rdp: not an mcs connect initial")
	}
	i := bytes.Index(p, []byte("Duca"))
	if i < 0 {
		return nil, errors.New("rdp: connect initial without gcc client data")
	}
	p = p[i+4:]
	if len(p) < 1 {
		return nil, errors.New("rdp: truncated gcc user data")
	}
	// PER length: one byte, or two with the top bit set.
	if p[0]&0x80 != 0 {
		if len(p) < 2 {
			return nil, errors.New("rdp: truncated gcc user data")
		}
		p = p[2:]
	} else {
		p = p[1:]
	}
	cc := &ClientConnect{MST120: -1}
	for len(p) >= 4 {
		typ := binary.LittleEndian.Uint16(p)
		n := int(binary.LittleEndian.Uint16(p[2:]))
		if n < 4 || n > len(p) {
			break
		}
		b := p[4:n]
		p = p[n:]
		switch typ {
		case 0xc001: // CS_CORE
			if len(b) >= 16 {
				cc.Version = binary.LittleEndian.Uint32(b)
				cc.Width, cc.Height = binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:])
				cc.Keyboard = binary.LittleEndian.Uint32(b[12:])
			}
			if len(b) >= 52 {
				cc.Build = binary.LittleEndian.Uint32(b[16:])
				cc.Name = utf16z(b[20:52])
			}
		case 0xc003: // CS_NET
			if len(b) < 4 {
				continue
			}
			count := int(binary.LittleEndian.Uint32(b))
			b = b[4:]
			for j := 0; j < count && len(b) >= 12 && j < 64; j++ {
				name := string(bytes.TrimRight(b[:8], "\x00"))
				if i := bytes.IndexByte(b[:8], 0); i >= 0 {
					name = string(b[:i])
				}
				if strings.EqualFold(name, "MS_T120") && cc.MST120 < 0 {
					cc.MST120 = j
				}
				cc.Channels = append(cc.Channels, name)
				b = b[12:]
			}
		}
	}
	return cc, nil
}

// utf16z decodes little-endian UTF-16 up to the first NUL.
func utf16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
