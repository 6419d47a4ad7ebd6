package analysis

import (
	"bytes"
	"slices"
	"testing"
)

// miraiConfig lays out table.c's first entries as a compiler may:
// packed (entries back to back, each ended by its encoded NUL; ports are
// bare 2-byte entries) or as C literals (each followed by a plain NUL).
func miraiConfig(key byte, cLiterals bool) []byte {
	var b []byte
	lit := func(raw []byte) {
		b = append(b, raw...)
		if cLiterals {
			b = append(b, 0)
		}
	}
	str := func(s string) {
		raw := make([]byte, 0, len(s)+1)
		for i := 0; i < len(s); i++ {
			raw = append(raw, s[i]^key)
		}
		lit(append(raw, key))
	}
	port := func(p int) { lit([]byte{byte(p>>8) ^ key, byte(p) ^ key}) }
	// what precedes the table is other data: here text that XORs to
	// non-text, so the first entry is not NUL-preceded
	b = append(b, 0x9c, 0x81)
	str("cnc.bot-test.invalid") // no TLD list knows .invalid
	port(23)
	str("report.bot-test.invalid")
	port(48101)
	str("listening tun0")
	for _, e := range miraiEntries[1:18] {
		str(e)
	}
	return b
}

func TestMiraiTableConfig(t *testing.T) {
	for _, key := range []byte{0x22, 0x5a} {
		for _, c := range []bool{false, true} {
			data := append(bytes.Repeat([]byte{0x90, 0x13, 0x00, 0x47}, 64), miraiConfig(key, c)...)
			mt := findMiraiTable(data, neighbourXOR(data))
			if mt == nil || mt.Key != key {
				t.Fatalf("key %#x c-literals %v: table %+v", key, c, mt)
			}
			want := []ConfigServer{{"cnc.bot-test.invalid", 23, "cnc"}, {"report.bot-test.invalid", 48101, "report"}}
			if !slices.Equal(mt.Servers, want) || !slices.Equal(mt.Ports, []int{23, 48101}) {
				t.Errorf("key %#x c-literals %v: servers %+v ports %v", key, c, mt.Servers, mt.Ports)
			}
			if !slices.Contains(mt.Strings, "listening tun0") || !slices.Contains(mt.Strings, "/proc/net/tcp") || slices.Contains(mt.Strings, "") {
				t.Errorf("strings %q", mt.Strings)
			}
			var iocs IOCs
			iocs.addConfig(mt, nil)
			if !slices.Contains(iocs.Domains, "cnc.bot-test.invalid") || !slices.Equal(iocs.Ports, []int{23, 48101}) {
				t.Errorf("iocs %+v", iocs)
			}
		}
	}
}

func TestXORCredentials(t *testing.T) {
	for _, key := range []byte{0x22, 0x54, 0xde} {
		data := append(bytes.Repeat([]byte{0x90, 0x13, 0x00, 0x47}, 64), scannerTable(key, scannerPairs...)...)
		data = append(data, 0, 0, 0, 0x13, 0x55)
		ct := xorCredentials(data, neighbourXOR(data))
		if ct == nil || ct.Key != key || ct.Form != "mirai-scanner" || !slices.Equal(ct.Pairs, scannerPairs) {
			t.Errorf("key %#x: %+v", key, ct)
		}
	}
	// Plain NUL-separated words are key 0: not a table.
	if ct := xorCredentials([]byte("\x00root\x00admin\x00support\x00"), neighbourXOR([]byte("\x00root\x00admin\x00support\x00"))); ct != nil {
		t.Errorf("plain words gave %+v", ct)
	}
}

// bashliteArrays is how BASHLITE's two arrays of "x\0" literals lie in a
// binary: every literal followed by two NULs, the users first.
func bashliteArrays(users, passwords []string) []byte {
	b := []byte("\x13\x00")
	for _, s := range append(slices.Clone(users), passwords...) {
		b = append(b, s...)
		b = append(b, 0, 0)
	}
	return append(b, "\x01\x02rest"...)
}

func TestBashliteCredentials(t *testing.T) {
	users := []string{"root", "", "admin", "user", "login", "guest"}
	words := []string{"root", "", "toor", "admin", "user", "guest", "login", "changeme", "1234", "12345", "123456", "default", "pass", "password"}
	ct := bashliteCredentials(bashliteArrays(users, words))
	if ct == nil || !slices.Equal(ct.Users, users) || !slices.Equal(ct.Words, words) || len(ct.Pairs) != len(users)*len(words) {
		t.Fatalf("table %+v", ct)
	}
	if ct.Pairs[0] != (Credential{"root", "root"}) || ct.Pairs[len(ct.Pairs)-1] != (Credential{"guest", "password"}) {
		t.Errorf("pairs %v", ct.Pairs)
	}
	if bashliteCredentials([]byte("\x00root\x00\x00xyz\x00\x00")) != nil {
		t.Error("one user is no table")
	}
}
