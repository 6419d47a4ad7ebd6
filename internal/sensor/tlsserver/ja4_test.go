package tlsserver

import (
	"crypto/tls"
	"strings"
	"testing"
)

// TestJA4 checks the fingerprint's parts against a hello built by hand:
// GREASE left out, SNI and ALPN counted but not hashed, order of ciphers
// and extensions not mattering.
func TestJA4(t *testing.T) {
	hi := &tls.ClientHelloInfo{
		SupportedVersions: []uint16{0x0a0a, tls.VersionTLS13, tls.VersionTLS12},
		ServerName:        "router.example",
		CipherSuites:      []uint16{0x1a1a, 0x1301, 0x1302, 0xc02b},
		Extensions:        []uint16{0x2a2a, 0x0000, 0x0010, 0x000a, 0x000d, 0x002b},
		SupportedProtos:   []string{"h2", "http/1.1"},
		SignatureSchemes:  []tls.SignatureScheme{0x0403, 0x0804},
	}
	got := JA4(hi)
	// b: sha256("1301,1302,c02b")[:12]; c: sha256("000a,000d,002b_0403,0804")[:12]
	want := "t13d0305h2_" + hash12("1301,1302,c02b") + "_" + hash12("000a,000d,002b_0403,0804")
	if got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
	hi.CipherSuites = []uint16{0xc02b, 0x1302, 0x1301}
	hi.Extensions = []uint16{0x002b, 0x000d, 0x0010, 0x000a, 0x0000}
	if again := JA4(hi); again != got {
		t.Errorf("reordered hello: %s, want %s", again, got)
	}
	hi.ServerName, hi.SupportedProtos, hi.SupportedVersions = "", nil, []uint16{tls.VersionTLS10}
	if g := JA4(hi); !strings.HasPrefix(g, "t10i0305"+"00_") {
		t.Errorf("JA4 without SNI/ALPN = %s", g)
	}
}
