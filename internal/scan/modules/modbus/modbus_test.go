package modbus

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) {
	modtest.Golden(t, "request-basic", Request(0x4b53, 0, readBasic, 0))
	modtest.Golden(t, "request-next", Request(0x4b54, 0, readBasic, 2))
}

func TestParseResponse(t *testing.T) {
	frame := []byte{0x4b, 0x53, 0, 0, 0, 0x1a, 0, 0x2b, 0x0e, 1, 0x81, 0, 0, 3,
		0, 7, 'C', 'o', 'n', 't', 'r', 'i', 'x', 1, 6, 'C', 'X', '-', '5', '0', '0', 2, 1, '1'}
	frame[5] = byte(len(frame) - 6)
	r, n, err := ParseResponse(frame)
	if err != nil || n != len(frame) {
		t.Fatal(err, n)
	}
	if r.Objects[0] != "Contrix" || r.Objects[1] != "CX-500" || r.Objects[2] != "1" || r.MoreFollows {
		t.Errorf("%+v", r)
	}
	exc := []byte{0, 1, 0, 0, 0, 3, 0, 0xab, 0x01}
	if r, _, err := ParseResponse(exc); err != nil || r.Exception != 1 {
		t.Errorf("exception: %+v %v", r, err)
	}
	for _, bad := range [][]byte{nil, {0, 1, 0, 1, 0, 3, 0, 0x2b, 0x0e}, {0, 1, 0, 0, 0, 9, 0, 0x2b}, {0, 1, 0, 0, 0, 3, 0, 0x03, 0}} {
		if _, _, err := ParseResponse(bad); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 3, 0, 0xab, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := ParseResponse(b)
		if err == nil && (n > len(b) || r == nil) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
	})
}
