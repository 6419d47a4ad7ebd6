// Package memcached is the scanner's memcached reflector probe: a "stats"
// command over the UDP protocol, reporting the version and amplification.
package memcached

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
)

// Request is the UDP frame header (request id 0, sequence 0, one datagram)
// followed by "stats\r\n".
var Request = append([]byte{0, 0, 0, 0, 0, 1, 0, 0}, "stats\r\n"...)

// Result is what the probe saw.
type Result struct {
	Stats         map[string]string  `json:"stats,omitempty"`
	Version       string             `json:"version,omitempty"`
	Amplification scan.Amplification `json:"amplification"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "memcached", Banner: r.Version, Reflector: r.Amplification.Factor > 1, Amplification: r.Amplification.Factor}
}

// ParseStats parses reply datagrams: each has the 8-byte frame header and
// carries part of the "STAT name value" lines.
func ParseStats(pkts [][]byte) (map[string]string, error) {
	var data []byte
	for _, p := range pkts {
		if len(p) < 8 {
			continue
		}
		if binary.BigEndian.Uint16(p[4:]) == 0 || binary.BigEndian.Uint16(p[2:]) >= binary.BigEndian.Uint16(p[4:]) {
			continue // sequence past the declared datagram count
		}
		data = append(data, p[8:]...)
	}
	if !bytes.Contains(data, []byte("STAT ")) {
		return nil, scan.ProtocolError("memcached: no stats in reply")
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\r\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "STAT" && len(out) < 128 {
			out[strings.ToValidUTF8(f[1], "\uFFFD")] = strings.ToValidUTF8(strings.Join(f[2:], " "), "\uFFFD")
		}
	}
	return out, nil
}

// Module is the memcached probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "memcached" }
func (Module) Protocol() string    { return "memcached" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 11211 }

// Scan sends "stats".
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	pkts, amp, err := scan.ExchangeUDP(ctx, t, Request)
	if err != nil {
		return scan.UDPStatus(err), nil, err
	}
	st, err := ParseStats(pkts)
	if err != nil {
		return scan.StatusProtocolError, nil, err
	}
	return scan.StatusSuccess, &Result{Stats: st, Version: st["version"], Amplification: amp}, nil
}
