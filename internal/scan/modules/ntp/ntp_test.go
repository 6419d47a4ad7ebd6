package ntp

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) {
	modtest.Golden(t, "monlist", MonlistRequest)
	modtest.Golden(t, "readvar", ReadvarRequest)
}

func TestParseMonlist(t *testing.T) {
	p := append([]byte{0xd7, 0, 3, 42, 0, 2, 0, 72}, make([]byte, 144)...)
	q := append([]byte{0x97, 1, 3, 42, 0, 1, 0, 72}, make([]byte, 72)...)
	m, err := ParseMonlist([][]byte{p, q})
	if err != nil || m.Items != 3 || m.ItemSize != 72 {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := ParseMonlist([][]byte{{0x97, 0, 3, 42, 0x40, 0, 0, 0}}); err == nil {
		t.Error("error reply accepted")
	}
}

func TestParseReadvar(t *testing.T) {
	data := `version="ntpd 4.2.8p15", system="Linux"`
	p := append([]byte{0x16, 0x82, 0, 1, 0, 0, 0, 0, 0, 0, 0, byte(len(data))}, data...)
	rv, err := ParseReadvar([][]byte{p})
	if err != nil || rv.Variables["version"] != "ntpd 4.2.8p15" || rv.Variables["system"] != "Linux" {
		t.Fatalf("%+v %v", rv, err)
	}
}

func FuzzParseMonlist(f *testing.F) {
	f.Add(append([]byte{0xd7, 0, 3, 42, 0, 1, 0, 72}, make([]byte, 72)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMonlist([][]byte{b}); err == nil && m.Items*max(m.ItemSize, 0) > len(b) {
			t.Fatalf("%d items of %d bytes from %d bytes", m.Items, m.ItemSize, len(b))
		}
	})
}

func FuzzParseReadvar(f *testing.F) {
	f.Add(append([]byte{0x16, 0x82, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9}, "version=1"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rv, err := ParseReadvar([][]byte{b}); err == nil && len(rv.Variables) > 64 {
			t.Fatal("variable limit exceeded")
		}
	})
}
