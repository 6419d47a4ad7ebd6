package memcached

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

func TestProbeGolden(t *testing.T) { golden(t, "stats", Request) }

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
