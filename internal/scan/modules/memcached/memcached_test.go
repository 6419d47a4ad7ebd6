package memcached

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) { modtest.Golden(t, "stats", Request) }

func TestParseStats(t *testing.T) {
	p := append([]byte{0, 0, 0, 0, 0, 1, 0, 0}, "STAT pid 7\r\nSTAT version 1.6.9\r\nEND\r\n"...)
	st, err := ParseStats([][]byte{p})
	if err != nil || st["version"] != "1.6.9" || st["pid"] != "7" {
		t.Fatalf("%v %v", st, err)
	}
	if _, err := ParseStats([][]byte{[]byte("ERROR\r\n")}); err == nil {
		t.Error("garbage accepted")
	}
}

func FuzzParseStats(f *testing.F) {
	f.Add(append([]byte{0, 0, 0, 0, 0, 1, 0, 0}, "STAT pid 7\r\nEND\r\n"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := ParseStats([][]byte{b}); err == nil && len(st) > 128 {
			t.Fatal("stat limit exceeded")
		}
	})
}
