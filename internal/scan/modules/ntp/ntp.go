// Package ntp is the scanner's NTP reflector probe: a mode 7 MON_GETLIST_1
// ("monlist", the classic amplifier) and a mode 6 READVAR, each reporting
// how many bytes came back per byte sent.
package ntp

import (
	"context"
	"encoding/binary"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
)

// Probes.
var (
	// MonlistRequest is mode 7, implementation XNTPD (3), MON_GETLIST_1 (42),
	// padded to 48 bytes as ntpdc sends it.
	MonlistRequest = append([]byte{0x17, 0x00, 0x03, 0x2a}, make([]byte, 44)...)
	// ReadvarRequest is mode 6 (version 2), opcode READVAR, sequence 1,
	// association 0, no data.
	ReadvarRequest = []byte{0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}
)

// Monlist is the parsed mode 7 reply.
type Monlist struct {
	Items         int                `json:"items"`
	ItemSize      int                `json:"item_size"`
	Amplification scan.Amplification `json:"amplification"`
}

// Readvar is the parsed mode 6 reply.
type Readvar struct {
	Variables     map[string]string  `json:"variables,omitempty"`
	Amplification scan.Amplification `json:"amplification"`
}

// Result is what the probe saw.
type Result struct {
	Monlist *Monlist `json:"monlist,omitempty"`
	Readvar *Readvar `json:"readvar,omitempty"`
	Version string   `json:"version,omitempty"`
	MaxAmp  float64  `json:"amplification_factor"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "ntp", Banner: r.Version, Reflector: r.MaxAmp > 1, Amplification: r.MaxAmp}
}

// ParseMonlist counts the monitor entries across the reply packets.
func ParseMonlist(pkts [][]byte) (*Monlist, error) {
	m := &Monlist{}
	ok := false
	for _, b := range pkts {
		if len(b) < 8 {
			continue
		}
		response := b[0]&0x80 != 0
		mode := b[0] & 0x07
		if !response || mode != 7 || b[3] != 42 {
			continue
		}
		if errc := b[4] >> 4; errc != 0 {
			continue // the server refused (e.g. monlist disabled)
		}
		items := int(binary.BigEndian.Uint16(b[4:]) & 0x0fff)
		size := int(binary.BigEndian.Uint16(b[6:]) & 0x0fff)
		if size > 0 && 8+items*size > len(b) {
			items = (len(b) - 8) / size
		}
		m.Items += items
		m.ItemSize = size
		ok = true
	}
	if !ok {
		return nil, scan.ProtocolError("ntp: no mode 7 monlist reply")
	}
	return m, nil
}

// ParseReadvar parses mode 6 replies into variables (fragments joined by
// offset order as received).
func ParseReadvar(pkts [][]byte) (*Readvar, error) {
	var data []byte
	ok := false
	for _, b := range pkts {
		if len(b) < 12 || b[0]&0x07 != 6 || b[1]&0x80 == 0 || b[1]&0x1f != 2 {
			continue
		}
		count := int(binary.BigEndian.Uint16(b[10:]))
		if 12+count > len(b) {
			count = len(b) - 12
		}
		data = append(data, b[12:12+count]...)
		ok = true
		if len(data) > 16<<10 {
			break
		}
	}
	if !ok {
		return nil, scan.ProtocolError("ntp: no mode 6 reply")
	}
	rv := &Readvar{Variables: map[string]string{}}
	for _, kv := range strings.Split(string(data), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == "" || len(rv.Variables) >= 64 {
			continue
		}
		rv.Variables[strings.ToValidUTF8(k, "\uFFFD")] = strings.ToValidUTF8(strings.Trim(v, "\"\r\n\x00"), "\uFFFD")
	}
	return rv, nil
}

// Module is the NTP probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "ntp" }
func (Module) Protocol() string    { return "ntp" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 123 }

// Scan sends monlist, then readvar.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	res := &Result{}
	var firstErr error
	if pkts, amp, err := scan.ExchangeUDP(ctx, t, MonlistRequest); err == nil {
		if m, perr := ParseMonlist(pkts); perr == nil {
			m.Amplification = amp
			res.Monlist = m
			res.MaxAmp = max(res.MaxAmp, amp.Factor)
		} else {
			firstErr = perr
		}
	} else {
		firstErr = err
	}
	if ctx.Err() == nil {
		if pkts, amp, err := scan.ExchangeUDP(ctx, t, ReadvarRequest); err == nil {
			if rv, perr := ParseReadvar(pkts); perr == nil {
				rv.Amplification = amp
				res.Readvar = rv
				res.Version = rv.Variables["version"]
				res.MaxAmp = max(res.MaxAmp, amp.Factor)
			}
		} else if firstErr == nil {
			firstErr = err
		}
	}
	if res.Monlist == nil && res.Readvar == nil {
		return scan.UDPStatus(firstErr), nil, firstErr
	}
	return scan.StatusSuccess, res, nil
}
