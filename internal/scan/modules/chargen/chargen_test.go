package chargen

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

func TestProbeGolden(t *testing.T) { golden(t, "request", Request) }

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
