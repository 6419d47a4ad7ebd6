package proto

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

func init() {
	register(Protocol{Name: "dns", Port: 53, DefaultListen: "127.0.0.1:10053", New: newDNS})
}

// dnsHandler looks like an open recursive resolver that is also
// authoritative for a few DNSSEC-signed zones: ANY and TXT queries for those
// zones get the large answers reflection attacks look for. Names outside the
// zones get SERVFAIL (a resolver whose upstream is unreachable): the
// honeypot never queries anyone.
type dnsHandler struct {
	zones map[string][]dns.RR // owner-name-sorted records per zone apex
	now   func() time.Time
}

func newDNS(id Identity, o Options) (Handler, error) {
	h := &dnsHandler{zones: map[string][]dns.RR{}, now: o.now}
	zones := o.Zones
	if len(zones) == 0 {
		zones = []string{"example.org"}
	}
	for _, z := range zones {
		if _, ok := dns.IsDomainName(z); !ok {
			return nil, fmt.Errorf("dns: zone %q is not a domain name", z)
		}
		apex := dns.CanonicalName(z)
		rrs, err := zoneRecords(id, apex)
		if err != nil {
			return nil, fmt.Errorf("dns: zone %s: %w", z, err)
		}
		h.zones[apex] = rrs
	}
	return h, nil
}

// zoneRecords builds a signed-looking zone apex: the record mix of a
// mid-size organisation's domain (SPF, verification TXTs, two DNSKEYs).
func zoneRecords(id Identity, apex string) ([]dns.RR, error) {
	r := id.Rand("dns/" + apex)
	hexs := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return hex.EncodeToString(b)
	}
	b64 := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	a := fmt.Sprintf("%d.%d.%d.%d", 198, 51, 100, 1+r.IntN(250))
	lines := []string{
		fmt.Sprintf("%s 3600 IN SOA ns1.%s hostmaster.%s %d 7200 3600 1209600 3600", apex, apex, apex, 2026110101+r.IntN(20)),
		fmt.Sprintf("%s 86400 IN NS ns1.%s", apex, apex),
		fmt.Sprintf("%s 86400 IN NS ns2.%s", apex, apex),
		fmt.Sprintf("%s 300 IN A %s", apex, a),
		fmt.Sprintf("%s 300 IN AAAA 2001:db8:%x::%x", apex, r.IntN(0xffff), 1+r.IntN(0xfff)),
		fmt.Sprintf("%s 3600 IN MX 10 mx1.%s", apex, apex),
		fmt.Sprintf("%s 3600 IN MX 20 mx2.%s", apex, apex),
		fmt.Sprintf(`%s 3600 IN TXT "v=spf1 ip4:%s ip4:198.51.100.0/24 include:_spf.google.com include:spf.protection.outlook.com include:servers.mcsv.net ~all"`, apex, a),
		fmt.Sprintf(`%s 3600 IN TXT "google-site-verification=%s"`, apex, b64(32)[:43]),
		fmt.Sprintf(`%s 3600 IN TXT "MS=ms%d"`, apex, 10000000+r.IntN(89999999)),
		fmt.Sprintf(`%s 3600 IN TXT "facebook-domain-verification=%s"`, apex, hexs(15)),
		fmt.Sprintf(`%s 3600 IN TXT "atlassian-domain-verification=%s"`, apex, b64(48)),
		fmt.Sprintf(`%s 3600 IN TXT "docusign=%s-%s-%s-%s-%s"`, apex, hexs(4), hexs(2), hexs(2), hexs(2), hexs(6)),
		fmt.Sprintf(`%s 3600 IN TXT "v=DKIM1; k=rsa; p=%s" "%s"`, apex, b64(180), b64(90)),
		fmt.Sprintf("%s 3600 IN DNSKEY 257 3 8 %s", apex, b64(260)),
		fmt.Sprintf("%s 3600 IN DNSKEY 256 3 8 %s", apex, b64(132)),
		fmt.Sprintf("%s 3600 IN CAA 0 issue \"letsencrypt.org\"", apex),
		fmt.Sprintf("ns1.%s 3600 IN A 198.51.100.%d", apex, 1+r.IntN(250)),
		fmt.Sprintf("ns2.%s 3600 IN A 203.0.113.%d", apex, 1+r.IntN(250)),
		fmt.Sprintf("www.%s 300 IN CNAME %s", apex, apex),
	}
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", l, err)
		}
		rrs = append(rrs, rr)
	}
	// One RRSIG per RRset, with a 128-byte signature (a 1024-bit zone-signing key).
	seen := map[string]bool{}
	var sigs []dns.RR
	for _, rr := range rrs {
		k := rr.Header().Name + "/" + dns.TypeToString[rr.Header().Rrtype]
		if seen[k] {
			continue
		}
		seen[k] = true
		sig := &dns.RRSIG{
			Hdr:         dns.RR_Header{Name: rr.Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: rr.Header().Ttl},
			TypeCovered: rr.Header().Rrtype, Algorithm: dns.RSASHA256, Labels: uint8(dns.CountLabel(rr.Header().Name)),
			OrigTtl: rr.Header().Ttl, Expiration: 1767225600, Inception: 1764547200, KeyTag: uint16(r.IntN(65536)),
			SignerName: apex, Signature: b64(128),
		}
		sigs = append(sigs, sig)
	}
	return append(rrs, sigs...), nil
}

func (h *dnsHandler) zoneOf(name string) (string, bool) {
	for n := name; ; {
		if _, ok := h.zones[n]; ok {
			return n, true
		}
		i, end := dns.NextLabel(n, 0)
		if end {
			return "", false
		}
		n = n[i:]
	}
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
		zone, ok := h.zoneOf(name)
		if !ok {
			m.Rcode = dns.RcodeServerFailure
			break
		}
		m.Authoritative = true
		found := false
		for _, rr := range h.zones[zone] {
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
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		if len(m.Answer) == 0 {
			for _, rr := range h.zones[zone] {
				if rr.Header().Rrtype == dns.TypeSOA {
					m.Ns = append(m.Ns, dns.Copy(rr))
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
