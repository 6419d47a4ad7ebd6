// Package chargen is the scanner's CharGen (RFC 864) reflector probe: one
// datagram in, a line of characters out, and the ratio between them.
package chargen

import (
	"context"

	"github.com/kansoku/kansoku/internal/scan"
)

// Request is a one-byte datagram: any datagram triggers a reply.
var Request = []byte{'\n'}

// Result is what the probe saw.
type Result struct {
	Sample        string             `json:"sample"`
	Amplification scan.Amplification `json:"amplification"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "chargen", Reflector: r.Amplification.Factor > 1, Amplification: r.Amplification.Factor}
}

// ParseReply checks that a reply looks like CharGen output: printable ASCII
// and line ends only.
func ParseReply(b []byte) (string, error) {
	if len(b) == 0 {
		return "", scan.ProtocolError("chargen: empty reply")
	}
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' {
			return "", scan.ProtocolError("chargen: non-printable byte 0x%02x", c)
		}
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b), nil
}

// Module is the CharGen probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "chargen" }
func (Module) Protocol() string    { return "chargen" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 19 }

// Scan sends one byte.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	pkts, amp, err := scan.ExchangeUDP(ctx, t, Request)
	if err != nil {
		return scan.UDPStatus(err), nil, err
	}
	s, err := ParseReply(pkts[0])
	if err != nil {
		return scan.StatusProtocolError, nil, err
	}
	return scan.StatusSuccess, &Result{Sample: s, Amplification: amp}, nil
}
