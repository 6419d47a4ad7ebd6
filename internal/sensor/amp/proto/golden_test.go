package proto

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite golden files and fuzz seeds from the request table")

// goldenNow and goldenSeed fix every time and identity in replies.
var (
	goldenNow  = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	goldenSeed = []byte("golden-seed")
	goldenPeer = Peer{Remote: netip.MustParseAddrPort("192.0.2.7:5353"), Local: netip.MustParseAddrPort("198.51.100.10:1900")}
)

type goldenCase struct {
	proto, name string
	reqs        [][]byte // sent in order to one handler; the last one is golden
	err         error    // expected error of the last request (nil: answered)
}

func dnsQuery(name string, qtype, class uint16, edns uint16) []byte {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	m.Question[0].Qclass = class
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	b, _ := m.Pack()
	return b
}

func ber(tag byte, parts ...[]byte) []byte { return seq(tag, parts...) }

func snmpReq(version int64, community string, pdu byte, a, b int64, oids ...string) []byte {
	var vbs [][]byte
	for _, o := range oids {
		vbs = append(vbs, ber(tagSeq, encOID(mustOID(o)), elem(tagNull, nil)))
	}
	return ber(tagSeq, encInt(tagInt, version), encStr(tagOctets, community),
		ber(pdu, encInt(tagInt, 0x4242), encInt(tagInt, a), encInt(tagInt, b), ber(tagSeq, vbs...)))
}

// cldapRootDSE is the request reflection tools send: a base search of ""
// with (objectClass=*) and no attribute list.
func cldapRootDSE(attrs ...string) []byte {
	var as [][]byte
	for _, a := range attrs {
		as = append(as, encStr(tagOctets, a))
	}
	return ber(tagSeq, encInt(tagInt, 1), ber(ldapSearchRequest, encStr(tagOctets, ""), encInt(0x0a, 0), encInt(0x0a, 0),
		encInt(tagInt, 0), encInt(tagInt, 0), elem(0x01, []byte{0}), encStr(0x87, "objectclass"), ber(tagSeq, as...)))
}

func mcFrame(cmd string) []byte {
	return append([]byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}, cmd...)
}

func rpcCall(vers, proc uint32) []byte {
	var b []byte
	for _, v := range []uint32{0x5a5a0001, 0, 2, 100000, vers, proc, 0, 0, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func nbstat() []byte {
	b := []byte{0x81, 0x0e, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 32}
	name := "*" + strings.Repeat("\x00", 15)
	for i := 0; i < 16; i++ {
		b = append(b, 'A'+name[i]>>4, 'A'+name[i]&0x0f)
	}
	return append(b, 0, 0x00, 0x21, 0x00, 0x01)
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// ntpdcMonlist is what `ntpdc -c monlist` sends: ntpd's req_pkt without a
// MAC (REQ_LEN_NOMAC = 192 bytes), version 2, implementation XNTPD (3),
// request MON_GETLIST_1 (42), everything else zero.
func ntpdcMonlist() []byte {
	b := make([]byte, 192)
	copy(b, []byte{0x17, 0x00, 0x03, 0x2a})
	return b
}

var wsdProbe = []byte(`<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Header><w:MessageID>uuid:84ede3de-7dec-11d0-c360-f01234567890</w:MessageID><w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To><w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action></e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body></e:Envelope>`)

func one(b []byte) [][]byte { return [][]byte{b} }

var goldenCases = []goldenCase{
	{"dns", "any-edns", one(dnsQuery("example.org.", dns.TypeANY, dns.ClassINET, 4096)), nil},
	{"dns", "any-plain", one(dnsQuery("example.org.", dns.TypeANY, dns.ClassINET, 0)), nil},
	{"dns", "txt", one(dnsQuery("example.org.", dns.TypeTXT, dns.ClassINET, 4096)), nil},
	{"dns", "version-bind", one(dnsQuery("version.bind.", dns.TypeTXT, dns.ClassCHAOS, 0)), nil},
	{"dns", "out-of-zone", one(dnsQuery("isc.org.", dns.TypeANY, dns.ClassINET, 4096)), nil},
	{"dns", "malformed", one([]byte{0x12, 0x34, 0x01}), ErrMalformed},
	{"ntp", "monlist-attack", one(unhex("17 00 03 2a 00 00 00 00")), nil},
	{"ntp", "monlist-ntpdc", one(ntpdcMonlist()), nil},
	{"ntp", "readvar-ntpq", one(unhex("16 02 00 01 00 00 00 00 00 00 00 00")), nil},
	{"ntp", "client-v4", one(append(unhex("e3 00 04 fa 00 01 00 00 00 01 00 00"), make([]byte, 36)...)), nil},
	{"ntp", "bad-request-code", one(unhex("17 00 03 01 00 00 00 00")), nil},
	{"ntp", "malformed", one([]byte{0x17, 0x00}), ErrMalformed},
	{"ssdp", "ssdp-all", one([]byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")), nil},
	{"ssdp", "rootdevice", one([]byte("M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\nST:upnp:rootdevice\r\nMan:\"ssdp:discover\"\r\nMX:3\r\n\r\n")), nil},
	{"ssdp", "other-target", one([]byte("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n")), ErrNoAnswer},
	{"ssdp", "malformed", one([]byte("GET / HTTP/1.1\r\n\r\n")), ErrMalformed},
	{"chargen", "newline", [][]byte{{'\n'}, {'\n'}}, nil},
	{"qotd", "newline", one([]byte{'\n'}), nil},
	{"snmp", "getbulk", one(snmpReq(1, "public", pduGetBulk, 0, 30, "1.3.6.1.2.1")), nil},
	{"snmp", "getbulk-max", one(snmpReq(1, "public", pduGetBulk, 0, 255, "1.3.6.1")), nil},
	{"snmp", "get-v1", one(snmpReq(0, "public", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0")), nil},
	{"snmp", "getnext-end", one(snmpReq(1, "public", pduGetNext, 0, 0, "1.3.6.1.9")), nil},
	{"snmp", "get-v1-missing", one(snmpReq(0, "public", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.99.0")), nil},
	{"snmp", "wrong-community", one(snmpReq(1, "secret", pduGet, 0, 0, "1.3.6.1.2.1.1.1.0")), ErrNoAnswer},
	{"snmp", "malformed", one([]byte{0x30, 0x03, 0x02, 0x01}), ErrMalformed},
	{"cldap", "rootdse", one(cldapRootDSE()), nil},
	{"cldap", "rootdse-attrs", one(cldapRootDSE("dnsHostName", "defaultNamingContext")), nil},
	{"cldap", "malformed", one([]byte{0x30, 0x84, 0, 0, 0, 1}), ErrMalformed},
	{"memcached", "stats", one(mcFrame("stats\r\n")), nil},
	{"memcached", "set-get", [][]byte{mcFrame("set amp 0 0 3000\r\n" + strings.Repeat("A", 3000) + "\r\n"), mcFrame("get amp\r\n")}, nil},
	{"memcached", "malformed", one([]byte{0, 1, 0}), ErrMalformed},
	{"wsd", "probe", one(wsdProbe), nil},
	{"wsd", "malformed", one([]byte("<e:Envelope")), ErrMalformed},
	{"ripv1", "whole-table", one(unhex("01 01 00 00 0000 0000 00000000 00000000 00000000 00000010")), nil},
	{"ripv1", "malformed", one(unhex("01 01 00")), ErrMalformed},
	{"mssql", "enumerate", one([]byte{0x02}), nil},
	{"mssql", "instance", one(append([]byte{0x04}, "MSSQLSERVER\x00"...)), nil},
	{"mssql", "malformed", one([]byte{0x09}), ErrMalformed},
	{"netbios", "nbstat", one(nbstat()), nil},
	{"netbios", "malformed", one([]byte{0x81, 0x0e}), ErrMalformed},
	{"portmap", "dump-v2", one(rpcCall(2, 4)), nil},
	{"portmap", "dump-v3", one(rpcCall(3, 4)), nil},
	{"portmap", "null", one(rpcCall(2, 0)), nil},
	{"portmap", "malformed", one([]byte{0, 0, 0, 1}), ErrMalformed},
	{"ubiquiti", "discovery", one([]byte{1, 0, 0, 0}), nil},
	{"ubiquiti", "malformed", one([]byte{2, 0, 0, 0}), ErrMalformed},
	{"coap", "well-known-core", one(unhex("40 01 7d 34 bb 2e 77 65 6c 6c 2d 6b 6e 6f 77 6e 04 63 6f 72 65")), nil},
	{"coap", "not-found", one(unhex("50 01 00 01 b4 74 65 6d 70")), nil},
	{"coap", "malformed", one([]byte{0x40}), ErrMalformed},
	{"tftp", "rrq-config", one([]byte("\x00\x01startup-config\x00octet\x00")), nil},
	{"tftp", "rrq-missing", one([]byte("\x00\x01boot.bin\x00octet\x00")), nil},
	{"tftp", "malformed", one([]byte{0, 9, 0, 0}), ErrMalformed},
	{"ard", "status", one([]byte{0x00, 0x14, 0x00, 0x01, 0x03}), nil},
	{"ard", "malformed", one([]byte{0x00, 0x15}), ErrMalformed},
}

func goldenHandler(t *testing.T, name string) Handler {
	p, ok := Lookup(name)
	if !ok {
		t.Fatalf("protocol %s not registered", name)
	}
	h, err := p.New(NewIdentity(goldenSeed), Options{Now: func() time.Time { return goldenNow }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestGolden feeds each request file to a fresh handler and compares the
// reply datagrams (hex, one per line) with the golden file; it also writes
// the measured amplification factors.
func TestGolden(t *testing.T) {
	var factors []string
	for _, tc := range goldenCases {
		t.Run(tc.proto+"/"+tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "golden", tc.proto)
			reqPath := filepath.Join(dir, tc.name+".req")
			if *update {
				_ = os.MkdirAll(dir, 0o755)
				if err := os.WriteFile(reqPath, tc.reqs[len(tc.reqs)-1], 0o644); err != nil {
					t.Fatal(err)
				}
				writeSeed(t, tc)
			}
			req, err := os.ReadFile(reqPath)
			if err != nil {
				t.Fatal(err)
			}
			h := goldenHandler(t, tc.proto)
			for _, r := range tc.reqs[:len(tc.reqs)-1] {
				if _, err := h.Respond(r, goldenPeer); err != nil {
					t.Fatalf("setup request: %v", err)
				}
			}
			reply, err := h.Respond(req, goldenPeer)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# content: %q\n", reply.Content)
			for _, p := range reply.Packets {
				fmt.Fprintf(&b, "%x\n", p)
			}
			goldPath := filepath.Join(dir, tc.name+".golden")
			if *update {
				if err := os.WriteFile(goldPath, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldPath)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Fatalf("reply differs from %s:\n%s", goldPath, b.String())
			}
			if tc.err == nil && len(reply.Packets) > 0 {
				factors = append(factors, fmt.Sprintf("%-10s %-18s request %5d B  reply %6d B in %3d datagrams  factor %6.1f",
					tc.proto, tc.name, len(req), reply.Size(), len(reply.Packets), float64(reply.Size())/float64(len(req))))
			}
		})
	}
	sort.Strings(factors)
	out := "# Bandwidth amplification factor (UDP payload bytes out / in) per golden request.\n" + strings.Join(factors, "\n") + "\n"
	path := filepath.Join("testdata", "amplification.txt")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(path); err != nil || string(want) != out {
		t.Errorf("amplification factors differ from %s (%v):\n%s", path, err, out)
	}
}

var fuzzNames = map[string]string{
	"dns": "FuzzDNS", "ntp": "FuzzNTP", "ssdp": "FuzzSSDP", "snmp": "FuzzSNMP", "cldap": "FuzzCLDAP",
	"memcached": "FuzzMemcached", "wsd": "FuzzWSD", "ripv1": "FuzzRIP", "mssql": "FuzzMSSQL", "netbios": "FuzzNetBIOS",
	"portmap": "FuzzPortmap", "ubiquiti": "FuzzUbiquiti", "coap": "FuzzCoAP", "tftp": "FuzzTFTP", "chargen": "FuzzChargen", "qotd": "FuzzQOTD", "ard": "FuzzARD",
}

func writeSeed(t *testing.T, tc goldenCase) {
	dir := filepath.Join("testdata", "fuzz", fuzzNames[tc.proto])
	_ = os.MkdirAll(dir, 0o755)
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", tc.reqs[len(tc.reqs)-1])
	if err := os.WriteFile(filepath.Join(dir, tc.name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
