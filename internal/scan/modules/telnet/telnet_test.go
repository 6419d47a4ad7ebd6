package telnet

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) {
	_, opts, _ := ParseIAC([]byte{255, 251, 1, 255, 251, 3, 255, 253, 24, 255, 253, 31})
	modtest.Golden(t, "refuse", Refuse(opts))
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
