package proto

import (
	"container/list"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// The records of a zone are synthesized per installation and apex: the
// record mix of a mid-size organisation's domain (SPF, verification TXTs,
// DKIM, two DNSKEYs), addresses in public-looking space, and RRSIGs that
// validate: ECDSA P-256 keys derived from the install seed sign every
// RRset, with a validity window that rolls daily (inception a day back,
// expiry two weeks ahead) as a signer's re-signing would keep it.

// zoneCache holds built zones, least recently used evicted first; a zone
// is rebuilt when its signatures' day rolls over.
type zoneCache struct {
	id  Identity
	max int

	mu    sync.Mutex
	ll    *list.List
	zones map[string]*list.Element
}

type zoneEntry struct {
	apex string
	day  int64
	rrs  []dns.RR
}

func newZoneCache(id Identity, max int) *zoneCache {
	return &zoneCache{id: id, max: max, ll: list.New(), zones: map[string]*list.Element{}}
}

// get returns the zone's records signed for now's day.
func (c *zoneCache) get(apex string, now time.Time) ([]dns.RR, error) {
	day := now.Unix() / 86400
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.zones[apex]; ok {
		e := el.Value.(*zoneEntry)
		if e.day == day {
			c.ll.MoveToFront(el)
			return e.rrs, nil
		}
		c.ll.Remove(el)
		delete(c.zones, apex)
	}
	rrs, err := zoneRecords(c.id, apex, now)
	if err != nil {
		return nil, err
	}
	c.zones[apex] = c.ll.PushFront(&zoneEntry{apex: apex, day: day, rrs: rrs})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.zones, old.Value.(*zoneEntry).apex)
	}
	return rrs, nil
}

// publicV4 are first octets of large hosting and ISP blocks: synthesized
// answers look like the Internet's, not like documentation prefixes.
var publicV4 = []byte{23, 34, 35, 45, 52, 54, 64, 66, 69, 74, 104, 107, 136, 142, 146, 151, 157, 162, 185, 188, 193, 195, 199, 208, 209, 212, 213, 216, 217}

var publicV6 = []uint16{0x2600, 0x2604, 0x2606, 0x2607, 0x2a00, 0x2a01, 0x2a02, 0x2a03, 0x2a05}

type zoneRand struct {
	next func(n int) int
}

func (r zoneRand) v4() netip.Addr {
	return netip.AddrFrom4([4]byte{publicV4[r.next(len(publicV4))], byte(r.next(256)), byte(r.next(256)), byte(1 + r.next(250))})
}

func (r zoneRand) v6() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:], publicV6[r.next(len(publicV6))])
	for i := 2; i < 6; i++ {
		b[i] = byte(r.next(256))
	}
	b[15] = byte(1 + r.next(250))
	return netip.AddrFrom16(b)
}

// zoneRecords builds and signs the zone at apex for now's day.
func zoneRecords(id Identity, apex string, now time.Time) ([]dns.RR, error) {
	r := id.Rand("dns/" + apex)
	zr := zoneRand{next: func(n int) int { return r.IntN(n) }}
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return b
	}
	hexs := func(n int) string { return hex.EncodeToString(bytesN(n)) }
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytesN(n)) }
	ttls := []int{300, 600, 1800, 3600}
	ttl := ttls[r.IntN(len(ttls))]
	a, ns1, ns2, mx := zr.v4(), zr.v4(), zr.v4(), zr.v4()
	net24 := netip.PrefixFrom(a, 24).Masked()
	lines := []string{
		fmt.Sprintf("%s 3600 IN SOA ns1.%s hostmaster.%s %d 7200 3600 1209600 3600", apex, apex, apex, 2026010101+r.IntN(300)*100+r.IntN(10)),
		fmt.Sprintf("%s 86400 IN NS ns1.%s", apex, apex),
		fmt.Sprintf("%s 86400 IN NS ns2.%s", apex, apex),
		fmt.Sprintf("%s %d IN A %s", apex, ttl, a),
		fmt.Sprintf("%s %d IN AAAA %s", apex, ttl, zr.v6()),
		fmt.Sprintf("%s 3600 IN MX 10 mx1.%s", apex, apex),
		fmt.Sprintf("%s 3600 IN MX 20 mx2.%s", apex, apex),
		fmt.Sprintf(`%s 3600 IN TXT "v=spf1 ip4:%s ip4:%s include:_spf.google.com include:spf.protection.outlook.com include:servers.mcsv.net ~all"`, apex, a, net24),
		fmt.Sprintf(`%s 3600 IN TXT "google-site-verification=%s"`, apex, b64(32)[:43]),
		fmt.Sprintf(`%s 3600 IN TXT "MS=ms%d"`, apex, 10000000+r.IntN(89999999)),
		fmt.Sprintf(`%s 3600 IN TXT "facebook-domain-verification=%s"`, apex, hexs(15)),
		fmt.Sprintf(`%s 3600 IN TXT "atlassian-domain-verification=%s"`, apex, b64(48)),
		fmt.Sprintf(`%s 3600 IN TXT "docusign=%s-%s-%s-%s-%s"`, apex, hexs(4), hexs(2), hexs(2), hexs(2), hexs(6)),
		fmt.Sprintf(`%s 3600 IN TXT "v=DKIM1; k=rsa; p=%s" "%s"`, apex, b64(180), b64(90)),
		fmt.Sprintf("%s 3600 IN CAA 0 issue \"letsencrypt.org\"", apex),
		fmt.Sprintf("ns1.%s 3600 IN A %s", apex, ns1),
		fmt.Sprintf("ns2.%s 3600 IN A %s", apex, ns2),
		fmt.Sprintf("mx1.%s 3600 IN A %s", apex, mx),
		fmt.Sprintf("mx2.%s 3600 IN A %s", apex, mx.Next()),
		fmt.Sprintf("www.%s %d IN CNAME %s", apex, ttl, apex),
	}
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", l, err)
		}
		rrs = append(rrs, rr)
	}
	ksk, kskPub, err := zoneKey(id, apex, "ksk", 257)
	if err != nil {
		return nil, err
	}
	zsk, zskPub, err := zoneKey(id, apex, "zsk", 256)
	if err != nil {
		return nil, err
	}
	rrs = append(rrs, kskPub, zskPub)

	// Validity rolls with the day; the hour offset is per zone, as signers
	// are started at different times.
	day := now.Unix() / 86400 * 86400
	jitter := int64(r.IntN(86400))
	inception := uint32(day - 86400 + jitter - 3600)
	expiration := uint32(day + 14*86400 + jitter)
	var sigs []dns.RR
	for _, set := range rrsets(rrs) {
		h := set[0].Header()
		key, pub := zsk, zskPub
		if h.Rrtype == dns.TypeDNSKEY {
			key, pub = ksk, kskPub
		}
		sig := &dns.RRSIG{
			Hdr:         dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: h.Ttl},
			TypeCovered: h.Rrtype, Algorithm: dns.ECDSAP256SHA256, Labels: uint8(dns.CountLabel(h.Name)),
			OrigTtl: h.Ttl, Expiration: expiration, Inception: inception, KeyTag: pub.KeyTag(), SignerName: apex,
		}
		if err := sig.Sign(key, set); err != nil {
			return nil, fmt.Errorf("sign %s/%s: %w", h.Name, dns.TypeToString[h.Rrtype], err)
		}
		sigs = append(sigs, sig)
	}
	return append(rrs, sigs...), nil
}

// rrsets groups records by owner and type, in first-seen order.
func rrsets(rrs []dns.RR) [][]dns.RR {
	idx := map[string]int{}
	var sets [][]dns.RR
	for _, rr := range rrs {
		k := rr.Header().Name + "/" + dns.TypeToString[rr.Header().Rrtype]
		i, ok := idx[k]
		if !ok {
			i = len(sets)
			idx[k] = i
			sets = append(sets, nil)
		}
		sets[i] = append(sets[i], rr)
	}
	return sets
}

// zoneKey derives a zone's ECDSA P-256 key from the install seed.
func zoneKey(id Identity, apex, role string, flags uint16) (crypto.Signer, *dns.DNSKEY, error) {
	for i := 0; i < 16; i++ {
		m := hmac.New(sha256.New, id.seed)
		fmt.Fprintf(m, "dnskey/%s/%s/%d", apex, role, i)
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), m.Sum(nil))
		if err != nil {
			continue // the scalar was not below the group order
		}
		pub := &dns.DNSKEY{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: flags, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
		pub.PublicKey = base64.StdEncoding.EncodeToString(append(k.X.FillBytes(make([]byte, 32)), k.Y.FillBytes(make([]byte, 32))...))
		return detSigner{k}, pub, nil
	}
	return nil, nil, fmt.Errorf("dnskey %s: no key", apex)
}

// detSigner signs with RFC 6979 nonces: the same zone data signs to the
// same bytes (golden files), and no randomness is drawn per signature.
type detSigner struct{ k *ecdsa.PrivateKey }

func (s detSigner) Public() crypto.PublicKey { return s.k.Public() }

func (s detSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.k.Sign(nil, digest, opts)
}

// secondLevel are public suffixes under which registrations sit one label
// deeper (co.uk, com.au, …).
var secondLevel = map[string]bool{
	"co.uk.": true, "org.uk.": true, "ac.uk.": true, "gov.uk.": true, "com.au.": true, "net.au.": true, "org.au.": true,
	"co.jp.": true, "ne.jp.": true, "or.jp.": true, "com.br.": true, "com.cn.": true, "net.cn.": true, "co.za.": true,
	"co.in.": true, "com.tw.": true, "com.mx.": true, "co.kr.": true, "com.tr.": true, "com.ar.": true,
}

// registeredDomain is the zone a resolver would have learned name's
// records from: its registered domain, "" for the root and TLDs.
func registeredDomain(name string) string {
	labels := dns.SplitDomainName(name)
	n := len(labels)
	if n < 2 {
		return ""
	}
	k := 2
	if n >= 3 && secondLevel[strings.Join(labels[n-2:], ".")+"."] {
		k = 3
	}
	if n < k {
		return ""
	}
	return dns.Fqdn(strings.Join(labels[n-k:], "."))
}

// cacheAge is how long ago the resolver "fetched" a zone: TTLs of cached
// answers count down and restart, differently per zone and install.
func cacheAge(id Identity, zone string, now time.Time) uint32 {
	m := hmac.New(sha256.New, id.seed)
	m.Write([]byte("dnscache/" + zone))
	off := binary.BigEndian.Uint32(m.Sum(nil))
	return uint32(now.Unix()) + off
}

// aged returns a copy of rr with its TTL counted down by age (modulo the
// TTL, as a record refetched on expiry).
func aged(rr dns.RR, age uint32) dns.RR {
	c := dns.Copy(rr)
	if t := c.Header().Ttl; t > 0 && age > 0 {
		c.Header().Ttl = t - age%t
	}
	return c
}

// rootServers are the root name servers and their IPv4 addresses (IANA's
// root hints): a resolver answers `NS .` from its priming.
var rootServers = []string{"198.41.0.4", "170.247.170.2", "192.33.4.12", "199.7.91.13", "192.203.230.10", "192.5.5.241",
	"192.112.36.4", "198.97.190.53", "192.36.148.17", "192.58.128.30", "193.0.14.129", "199.7.83.42", "202.12.27.33"}

// rootHints is the answer to `NS .` with the servers' addresses as glue,
// TTLs counted down by age.
func rootHints(age uint32) (ans, glue []dns.RR) {
	for i, a := range rootServers {
		host := fmt.Sprintf("%c.root-servers.net.", 'a'+i)
		ans = append(ans, &dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 518400 - age%518400}, Ns: host})
		glue = append(glue, &dns.A{Hdr: dns.RR_Header{Name: host, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600000 - age%3600000},
			A: netip.MustParseAddr(a).AsSlice()})
	}
	return ans, glue
}
