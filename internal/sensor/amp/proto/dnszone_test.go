package proto

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func dnsAsk(t *testing.T, h Handler, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(4096, do)
	req, _ := q.Pack()
	r, err := h.Respond(req, Peer{})
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(r.Packets[0]); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDNSOpenResolver: every name gets the answer a recursive resolver
// would give, per installation, never SERVFAIL.
func TestDNSOpenResolver(t *testing.T) {
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	h, err := newDNS(NewIdentity([]byte("install-a")), Options{Zones: []string{"example.org"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newDNS(NewIdentity([]byte("install-b")), Options{Now: func() time.Time { return now }})
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		aa      bool
		minAns  int
		minSize int
	}{
		{"isc.org.", dns.TypeANY, dns.RcodeSuccess, false, 20, 1500},
		{"ripe.net.", dns.TypeTXT, dns.RcodeSuccess, false, 6, 600},
		{"www.bbc.co.uk.", dns.TypeA, dns.RcodeSuccess, false, 2, 0},
		{"nosuchhost.isc.org.", dns.TypeA, dns.RcodeNameError, false, 0, 0},
		{"example.org.", dns.TypeANY, dns.RcodeSuccess, true, 20, 1500},
		{".", dns.TypeNS, dns.RcodeSuccess, false, 13, 0},
	}
	for _, tc := range tests {
		m := dnsAsk(t, h, tc.name, tc.qtype, true)
		size := m.Len()
		if m.Rcode != tc.rcode || m.Authoritative != tc.aa || len(m.Answer) < tc.minAns || size < tc.minSize || !m.RecursionAvailable {
			t.Errorf("%s %s: rcode %d aa %v, %d answers, %d bytes", dns.TypeToString[tc.qtype], tc.name, m.Rcode, m.Authoritative, len(m.Answer), size)
		}
		if tc.rcode == dns.RcodeNameError && len(m.Ns) != 1 {
			t.Errorf("%s: NXDOMAIN without the SOA", tc.name)
		}
	}
	// answers are per installation: no address shared by every install
	a1, a2 := dnsAsk(t, h, "isc.org.", dns.TypeA, false), dnsAsk(t, other, "isc.org.", dns.TypeA, false)
	if len(a1.Answer) != 1 || len(a2.Answer) != 1 || a1.Answer[0].(*dns.A).A.Equal(a2.Answer[0].(*dns.A).A) {
		t.Fatalf("A isc.org: %v vs %v", a1.Answer, a2.Answer)
	}
	if ip := a1.Answer[0].(*dns.A).A; ip[0] == 198 && ip[1] == 51 || ip[0] == 203 && ip[1] == 0 || ip[0] == 192 && ip[1] == 0 {
		t.Fatalf("documentation address %v", ip)
	}
}

// TestDNSSECValid: every RRSIG verifies with the zone's DNSKEY of its key
// tag and is valid now; a month later the validity has rolled with it.
func TestDNSSECValid(t *testing.T) {
	for _, when := range []time.Time{time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC), time.Date(2027, 1, 20, 23, 0, 0, 0, time.UTC)} {
		h, _ := newDNS(NewIdentity([]byte("install-a")), Options{Zones: []string{"example.org"}, Now: func() time.Time { return when }})
		for _, zone := range []string{"example.org.", "isc.org."} {
			m := dnsAsk(t, h, zone, dns.TypeANY, true)
			keys := map[uint16]*dns.DNSKEY{}
			sets := map[uint16][]dns.RR{}
			var sigs []*dns.RRSIG
			for _, rr := range m.Answer {
				switch v := rr.(type) {
				case *dns.DNSKEY:
					keys[v.KeyTag()] = v
				case *dns.RRSIG:
					sigs = append(sigs, v)
				}
				if rr.Header().Rrtype != dns.TypeRRSIG {
					sets[rr.Header().Rrtype] = append(sets[rr.Header().Rrtype], rr)
				}
			}
			if len(keys) != 2 || len(sigs) < 8 {
				t.Fatalf("%s: %d keys, %d signatures", zone, len(keys), len(sigs))
			}
			for _, sig := range sigs {
				k := keys[sig.KeyTag]
				if k == nil {
					t.Fatalf("%s: RRSIG over %s has key tag %d, no such DNSKEY", zone, dns.TypeToString[sig.TypeCovered], sig.KeyTag)
				}
				set := sets[sig.TypeCovered]
				for _, rr := range set {
					rr.Header().Ttl = sig.OrigTtl // the resolver counted TTLs down
				}
				if err := sig.Verify(k, set); err != nil {
					t.Fatalf("%s: RRSIG over %s: %v", zone, dns.TypeToString[sig.TypeCovered], err)
				}
				if !sig.ValidityPeriod(when) {
					t.Fatalf("%s: RRSIG over %s not valid at %v (%d..%d)", zone, dns.TypeToString[sig.TypeCovered], when, sig.Inception, sig.Expiration)
				}
			}
		}
	}
}
