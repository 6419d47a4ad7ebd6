package proto

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func init() {
	register(Protocol{Name: "dns", Port: 53, DefaultListen: "127.0.0.1:10053", New: newDNS})
}

// dnsHandler looks like an open recursive resolver that is also
// authoritative for a few DNSSEC-signed zones. Every name gets an answer
// as a resolver would give it: for the configured zones authoritatively,
// for any other registered domain from a "cache" of records synthesized
// per installation (dnszone.go), so a scanner's `ANY isc.org` sees the
// large signed answer reflection attacks look for. The honeypot never
// queries anyone.
type dnsHandler struct {
	id    Identity
	own   map[string]bool // configured zones: authoritative
	zones *zoneCache
	now   func() time.Time
}

func newDNS(id Identity, o Options) (Handler, error) {
	h := &dnsHandler{id: id, own: map[string]bool{}, now: o.now}
	h.zones = newZoneCache(id, 4096)
	zones := o.Zones
	if len(zones) == 0 {
		zones = []string{"example.org"}
	}
	for _, z := range zones {
		if _, ok := dns.IsDomainName(z); !ok {
			return nil, fmt.Errorf("dns: zone %q is not a domain name", z)
		}
		apex := dns.CanonicalName(z)
		if _, err := h.zones.get(apex, h.now()); err != nil {
			return nil, fmt.Errorf("dns: zone %s: %w", z, err)
		}
		h.own[apex] = true
	}
	return h, nil
}

// zoneOf is the zone a name is answered from: a configured zone that
// contains it, else its registered domain (resolver answers).
func (h *dnsHandler) zoneOf(name string) (string, bool) {
	for n := name; ; {
		if h.own[n] {
			return n, true
		}
		i, end := dns.NextLabel(n, 0)
		if end {
			break
		}
		n = n[i:]
	}
	apex := registeredDomain(name)
	return apex, false
}

func (h *dnsHandler) Respond(req []byte, _ Peer) (Reply, error) {
	q := new(dns.Msg)
	if err := q.Unpack(req); err != nil {
		return Reply{}, malformed("dns", "%v", err)
	}
	if q.Response || len(q.Question) != 1 {
		return Reply{}, malformed("dns", "not a single-question query")
	}
	if q.Opcode != dns.OpcodeQuery {
		return Reply{}, malformed("dns", "opcode %d", q.Opcode)
	}
	qq := q.Question[0]
	content := clip(dns.TypeToString[qq.Qtype], 16)
	if content == "" {
		content = fmt.Sprintf("TYPE%d", qq.Qtype)
	}
	if qq.Qclass == dns.ClassCHAOS {
		content += " CH"
	}
	content += " " + clip(qq.Name, 255)

	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	m.Compress = true
	size := uint16(dns.MinMsgSize)
	do := false
	if opt := q.IsEdns0(); opt != nil {
		size = max(opt.UDPSize(), dns.MinMsgSize)
		size = min(size, 4096)
		do = opt.Do()
		m.SetEdns0(4096, do)
	}
	switch {
	case qq.Qclass == dns.ClassCHAOS && qq.Qtype == dns.TypeTXT && strings.EqualFold(qq.Name, "version.bind."):
		m.Authoritative = true
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: []string{"9.11.5-P4-5.1+deb10u9-Debian"}})
	case qq.Qclass != dns.ClassINET && qq.Qclass != dns.ClassANY:
		m.Rcode = dns.RcodeRefused
	default:
		name := dns.CanonicalName(qq.Name)
		now := h.now()
		zone, own := h.zoneOf(name)
		if name == "." && (qq.Qtype == dns.TypeNS || qq.Qtype == dns.TypeANY) {
			m.Answer, m.Extra = rootHints(cacheAge(h.id, ".", now))
			break
		}
		if zone == "" {
			m.Rcode = dns.RcodeRefused
			break
		}
		rrs, err := h.zones.get(zone, now)
		if err != nil {
			m.Rcode = dns.RcodeServerFailure
			break
		}
		// A resolver's answers come from its cache: TTLs count down; an
		// authoritative server's do not.
		age := uint32(0)
		if !own {
			age = cacheAge(h.id, zone, now)
		}
		m.Authoritative = own
		found := false
		for _, rr := range rrs {
			hdr := rr.Header()
			if hdr.Name != name {
				continue
			}
			found = true
			typ := hdr.Rrtype
			if sig, ok := rr.(*dns.RRSIG); ok {
				typ = sig.TypeCovered
				// Signatures go with the answer when asked for DNSSEC or ANY,
				// as BIND does for a signed zone.
				if !do && qq.Qtype != dns.TypeANY && qq.Qtype != dns.TypeRRSIG {
					continue
				}
				if qq.Qtype == dns.TypeRRSIG {
					typ = dns.TypeRRSIG
				}
			}
			if qq.Qtype == dns.TypeANY || typ == qq.Qtype || (hdr.Rrtype == dns.TypeCNAME && qq.Qtype != dns.TypeCNAME) {
				m.Answer = append(m.Answer, aged(rr, age))
			}
		}
		// a resolver follows a CNAME to its target (one hop, in-zone)
		if len(m.Answer) > 0 && qq.Qtype != dns.TypeCNAME && qq.Qtype != dns.TypeANY {
			if cn, ok := m.Answer[0].(*dns.CNAME); ok {
				for _, rr := range rrs {
					if h := rr.Header(); h.Name == cn.Target && (h.Rrtype == qq.Qtype || do && h.Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == qq.Qtype) {
						m.Answer = append(m.Answer, aged(rr, age))
					}
				}
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		if len(m.Answer) == 0 {
			for _, rr := range rrs {
				if rr.Header().Rrtype == dns.TypeSOA {
					m.Ns = append(m.Ns, aged(rr, age))
				}
			}
		}
	}
	m.Truncate(int(size))
	// Truncate turns compression off for messages that fit; a real server
	// always compresses.
	m.Compress = true
	out, err := m.Pack()
	if err != nil {
		return Reply{}, fmt.Errorf("dns: pack reply: %w", err)
	}
	return Reply{Content: content, Packets: [][]byte{out}}, nil
}
