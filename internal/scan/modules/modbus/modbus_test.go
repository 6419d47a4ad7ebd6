package modbus

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
	golden(t, "request-basic", Request(0x4b53, 0, readBasic, 0))
	golden(t, "request-next", Request(0x4b54, 0, readBasic, 2))
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
