// Package dns is the scanner's open-resolver probe: it asks for an A record
// under a zone the operator controls and reports whether the server
// recursed for a stranger, with the amplification factor of the exchange.
package dns

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/kansoku/kansoku/internal/scan"
)

// Zone is the zone probe names are made under; an operator sets it to a zone
// whose authoritative server they run, so recursion shows up in its logs.
var Zone = "probe.kansoku-scan.test."

// Result is what the probe saw.
type Result struct {
	Query              string             `json:"query"`
	RCode              string             `json:"rcode"`
	RecursionAvailable bool               `json:"recursion_available"`
	Authoritative      bool               `json:"authoritative"`
	Answers            []string           `json:"answers,omitempty"`
	OpenResolver       bool               `json:"open_resolver"`
	Amplification      scan.Amplification `json:"amplification"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "dns", Reflector: r.OpenResolver, Amplification: r.Amplification.Factor}
}

// Module is the DNS probe.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "dns" }
func (Module) Protocol() string    { return "dns" }
func (Module) Transport() string   { return "udp" }
func (Module) DefaultPort() uint16 { return 53 }

// QueryName is the probe name for a target: its address in hex, so answers
// seen at the authoritative server name the resolver that recursed.
func QueryName(t scan.Target) string {
	b := t.IP.AsSlice()
	return fmt.Sprintf("%x.%s", b, strings.TrimPrefix(Zone, "."))
}

// Query builds the probe: a recursive A query.
func Query(id uint16, name string) ([]byte, error) {
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, fmt.Errorf("dns: name %q: %w", name, err)
	}
	msg := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	return msg.Pack()
}

// ParseReply parses a reply to a query with id.
func ParseReply(b []byte, id uint16) (*Result, error) {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil {
		return nil, scan.ProtocolError("dns: %v", err)
	}
	if !m.Header.Response || m.Header.ID != id {
		return nil, scan.ProtocolError("dns: not a response to our query")
	}
	r := &Result{
		RCode: strings.TrimPrefix(m.Header.RCode.String(), "RCode"), RecursionAvailable: m.Header.RecursionAvailable,
		Authoritative: m.Header.Authoritative,
	}
	for _, a := range m.Answers {
		if len(r.Answers) >= 32 {
			break
		}
		switch b := a.Body.(type) {
		case *dnsmessage.AResource:
			r.Answers = append(r.Answers, fmt.Sprintf("%d.%d.%d.%d", b.A[0], b.A[1], b.A[2], b.A[3]))
		case *dnsmessage.CNAMEResource:
			r.Answers = append(r.Answers, b.CNAME.String())
		default:
			r.Answers = append(r.Answers, a.Header.Type.String())
		}
	}
	// A resolver that says it recurses and answered the question (or
	// looked it up and found nothing) recursed for us.
	r.OpenResolver = r.RecursionAvailable && (len(r.Answers) > 0 || m.Header.RCode == dnsmessage.RCodeNameError || m.Header.RCode == dnsmessage.RCodeSuccess)
	return r, nil
}

const queryID = 0x6b73

// Scan sends the query.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	name := QueryName(t)
	q, err := Query(queryID, name)
	if err != nil {
		return scan.StatusUnknownError, nil, err
	}
	replies, amp, err := scan.ExchangeUDP(ctx, t, q)
	if err != nil {
		return scan.UDPStatus(err), nil, err
	}
	var lastErr error
	for _, b := range replies {
		r, err := ParseReply(b, queryID)
		if err != nil {
			lastErr = err
			continue
		}
		r.Query = name
		r.Amplification = amp
		return scan.StatusSuccess, r, nil
	}
	return scan.StatusProtocolError, nil, lastErr
}
