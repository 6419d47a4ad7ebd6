// Package ssdp is the scanner's SSDP reflector probe: one unicast M-SEARCH
// for ssdp:all, reporting the devices that answered and the amplification.
package ssdp

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
)

// Request is the M-SEARCH probe. The HOST header names the SSDP multicast
// group as the protocol requires; the probe itself goes only to the target.
var Request = []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")

// Response is one parsed M-SEARCH reply.
type Response struct {
	Server   string `json:"server,omitempty"`
	Location string `json:"location,omitempty"`
	ST       string `json:"st,omitempty"`
	USN      string `json:"usn,omitempty"`
}

// Result is what the probe saw.
type Result struct {
	Responses     []Response         `json:"responses"`
	Amplification scan.Amplification `json:"amplification"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	f := scan.Facts{Service: "ssdp", Reflector: r.Amplification.Factor > 1, Amplification: r.Amplification.Factor}
	if len(r.Responses) > 0 {
		f.Banner = r.Responses[0].Server
	}
	return f
}

// ParseResponse parses one reply datagram ("HTTP/1.1 200 OK" + headers).
func ParseResponse(b []byte) (*Response, error) {
	if !bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return nil, scan.ProtocolError("ssdp: not an HTTP response")
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return nil, scan.ProtocolError("ssdp: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, scan.ProtocolError("ssdp: status %d", resp.StatusCode)
	}
	clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	return &Response{
		Server: clean(resp.Header.Get("Server")), Location: clean(resp.Header.Get("Location")),
		ST: clean(resp.Header.Get("St")), USN: clean(resp.Header.Get("Usn")),
	}, nil
}

// Module is the SSDP probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "ssdp" }
func (Module) Protocol() string    { return "ssdp" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 1900 }

// Scan sends the M-SEARCH.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	pkts, amp, err := scan.ExchangeUDP(ctx, t, Request)
	if err != nil {
		return scan.UDPStatus(err), nil, err
	}
	res := &Result{Amplification: amp}
	var lastErr error
	for _, p := range pkts {
		r, err := ParseResponse(p)
		if err != nil {
			lastErr = err
			continue
		}
		if len(res.Responses) < 64 {
			res.Responses = append(res.Responses, *r)
		}
	}
	if len(res.Responses) == 0 {
		return scan.StatusProtocolError, nil, lastErr
	}
	return scan.StatusSuccess, res, nil
}
