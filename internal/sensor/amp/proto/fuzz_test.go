package proto

import (
	"testing"
)

// fuzzProto checks that no input panics a handler and that replies stay
// within what one request may produce.
func fuzzProto(f *testing.F, name string) {
	p, ok := Lookup(name)
	if !ok {
		f.Fatalf("protocol %s not registered", name)
	}
	h, err := p.New(NewIdentity(goldenSeed), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		r, err := h.Respond(req, goldenPeer)
		if err != nil && len(r.Packets) > 0 {
			t.Fatalf("error %v with %d reply packets", err, len(r.Packets))
		}
		if len(r.Packets) > 100 {
			t.Fatalf("%d reply packets", len(r.Packets))
		}
		for _, pkt := range r.Packets {
			if len(pkt) > 65507 {
				t.Fatalf("reply datagram of %d bytes", len(pkt))
			}
		}
		if len(r.Content) > 1024 {
			t.Fatalf("content of %d bytes", len(r.Content))
		}
	})
}

func FuzzDNS(f *testing.F)       { fuzzProto(f, "dns") }
func FuzzNTP(f *testing.F)       { fuzzProto(f, "ntp") }
func FuzzSSDP(f *testing.F)      { fuzzProto(f, "ssdp") }
func FuzzSNMP(f *testing.F)      { fuzzProto(f, "snmp") }
func FuzzCLDAP(f *testing.F)     { fuzzProto(f, "cldap") }
func FuzzMemcached(f *testing.F) { fuzzProto(f, "memcached") }
func FuzzWSD(f *testing.F)       { fuzzProto(f, "wsd") }
func FuzzRIP(f *testing.F)       { fuzzProto(f, "ripv1") }
func FuzzMSSQL(f *testing.F)     { fuzzProto(f, "mssql") }
func FuzzNetBIOS(f *testing.F)   { fuzzProto(f, "netbios") }
func FuzzPortmap(f *testing.F)   { fuzzProto(f, "portmap") }
func FuzzUbiquiti(f *testing.F)  { fuzzProto(f, "ubiquiti") }
func FuzzCoAP(f *testing.F)      { fuzzProto(f, "coap") }
func FuzzTFTP(f *testing.F)      { fuzzProto(f, "tftp") }
func FuzzChargen(f *testing.F)   { fuzzProto(f, "chargen") }
func FuzzQOTD(f *testing.F)      { fuzzProto(f, "qotd") }
func FuzzARD(f *testing.F)       { fuzzProto(f, "ard") }

// FuzzBER drives the BER reader shared by SNMP and CLDAP directly.
func FuzzBER(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte{0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := 0; i < 64 && len(b) > 0; i++ {
			e, rest, err := readTLV(b)
			if err != nil {
				return
			}
			if len(rest) >= len(b) {
				t.Fatal("reader did not advance")
			}
			if e.Tag == tagOID {
				if o, err := parseOID(e.Value); err == nil {
					if p, err := parseOID(encOID(o)[2:]); err == nil && p.cmp(o) != 0 && len(e.Value) < 127 {
						t.Fatalf("oid %v re-encodes as %v", o, p)
					}
				}
			}
			b = rest
		}
	})
}
