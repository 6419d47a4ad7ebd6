package telnet

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares probe bytes with testdata/<name>.golden (a hex dump).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	dump := []byte(hex.Dump(got))
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, dump, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(dump, want) {
		t.Errorf("%s: probe bytes changed:\n%s\nwant:\n%s", name, dump, want)
	}
}

func TestProbeGolden(t *testing.T) {
	_, opts, _ := ParseIAC([]byte{255, 251, 1, 255, 251, 3, 255, 253, 24, 255, 253, 31})
	golden(t, "refuse", Refuse(opts))
}

func TestParseIAC(t *testing.T) {
	tests := []struct {
		in       []byte
		text     string
		opts     int
		restSize int
	}{
		{[]byte("login: "), "login: ", 0, 0},
		{[]byte{255, 251, 1, 'h', 'i'}, "hi", 1, 0},
		{[]byte{'a', 255, 255, 'b'}, "a\xffb", 0, 0},
		{[]byte{'a', 255}, "a", 0, 2 - 1},
		{[]byte{'a', 255, 253}, "a", 0, 2},
		{[]byte{255, 250, 24, 1, 255, 240, 'x'}, "x", 1, 0},
		{[]byte{255, 241, 'y'}, "y", 0, 0},
	}
	for _, tt := range tests {
		text, opts, rest := ParseIAC(tt.in)
		if string(text) != tt.text || len(opts) != tt.opts || len(rest) != tt.restSize {
			t.Errorf("% x: text %q opts %v rest % x", tt.in, text, opts, rest)
		}
	}
}

func FuzzParseIAC(f *testing.F) {
	f.Add([]byte{255, 251, 1, 255, 253, 31, 'l', 'o', 'g', 'i', 'n', ':', ' '})
	f.Fuzz(func(t *testing.T, b []byte) {
		text, opts, rest := ParseIAC(b)
		if len(text)+len(rest) > len(b) || len(opts)*3 > len(b) {
			t.Fatalf("output larger than input: %d %d %d of %d", len(text), len(opts), len(rest), len(b))
		}
	})
}
