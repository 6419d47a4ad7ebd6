package http

import (
	"os"
	"testing"
)

func TestMurmur3Vectors(t *testing.T) {
	// Published MurmurHash3 x86_32 vectors (SMHasher / reference ports).
	tests := []struct {
		in   string
		seed uint32
		want uint32
	}{
		{"", 0, 0},
		{"", 1, 0x514E28B7},
		{"", 0xffffffff, 0x81F16F39},
		{"\x00\x00\x00\x00", 0, 0x2362F9DE},
		{"\xff\xff\xff\xff", 0, 0x76293B50},
		{"!Ce\x87", 0, 0xF55B516B},
		{"!Ce", 0, 0x7E4A8634},
		{"!C", 0, 0xA0F7B07A},
		{"!", 0, 0x72661CF4},
		{"a", 0x9747b28c, 0x7FA09EA6},
		{"ab", 0x9747b28c, 0x74875592},
		{"abc", 0x9747b28c, 0xC84A62DD},
		{"abcd", 0x9747b28c, 0xF0478627},
		{"aaaa", 0x9747b28c, 0x5A97808A},
		{"Hello, world!", 0x9747b28c, 0x24884CBA},
		{"The quick brown fox jumps over the lazy dog", 0x9747b28c, 0x2FA826CD},
	}
	for _, tt := range tests {
		if got := Murmur3([]byte(tt.in), tt.seed); got != tt.want {
			t.Errorf("Murmur3(%q, %#x) = %#x, want %#x", tt.in, tt.seed, got, tt.want)
		}
	}
	// Python's mmh3.hash returns the signed value: mmh3.hash("foo") == -156908512.
	if got := int32(Murmur3([]byte("foo"), 0)); got != -156908512 {
		t.Errorf("signed foo = %d", got)
	}
}

func TestFaviconHashMatchesShodanEncoding(t *testing.T) {
	// icon.b64 is Python's base64.encodebytes(icon.bin), what Shodan hashes.
	icon, err := os.ReadFile("testdata/icon.bin")
	if err != nil {
		t.Fatal(err)
	}
	b64, err := os.ReadFile("testdata/icon.b64")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FaviconHash(icon), int32(Murmur3(b64, 0)); got != want {
		t.Fatalf("FaviconHash = %d, want mmh3 of encodebytes = %d", got, want)
	}
	if got := FaviconHash(nil); got != int32(Murmur3([]byte("\n"), 0)) {
		t.Errorf("empty icon hash %d", got)
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		body  string
		title string
		icon  string
		pw    bool
	}{
		{`<html><head><title> Router  Login </title><link rel="shortcut icon" href="/img/f.ico"></head><body><input type="PASSWORD"></body></html>`, "Router Login", "/img/f.ico", true},
		{`<title>a &amp; b</title><title>second</title>`, "a & b", "", false},
		{`<TITLE>水位観測所</TITLE><link rel=stylesheet href=x.css>`, "水位観測所", "", false},
		{`<html><body>no title`, "", "", false},
		{`<title>unterminated`, "unterminated", "", false},
	}
	for _, tt := range tests {
		pi := ParsePage([]byte(tt.body))
		if pi.Title != tt.title || pi.IconHref != tt.icon || pi.PasswordForm != tt.pw {
			t.Errorf("%q: %+v", tt.body, pi)
		}
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`<html><head><title>x</title><link rel="icon" href="/f.ico"></head><body><input type=password></body></html>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pi := ParsePage(b)
		if len(pi.Title) > maxTitle+3 {
			t.Fatalf("title of %d bytes", len(pi.Title))
		}
	})
}

func FuzzFaviconHash(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if FaviconHash(b) != FaviconHash(append([]byte(nil), b...)) {
			t.Fatal("hash not deterministic")
		}
	})
}
