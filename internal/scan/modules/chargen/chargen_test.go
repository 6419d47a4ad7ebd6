package chargen

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) { modtest.Golden(t, "request", Request) }

func TestParseReply(t *testing.T) {
	if s, err := ParseReply([]byte("!\"#$%&'()*+,-./0123\r\n")); err != nil || s == "" {
		t.Fatal(s, err)
	}
	if _, err := ParseReply([]byte{0, 1, 2}); err == nil {
		t.Error("binary accepted")
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add([]byte("ABCDEFG\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := ParseReply(b); err == nil && len(s) > 80 {
			t.Fatal("sample too long")
		}
	})
}
