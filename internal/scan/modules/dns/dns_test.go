package dns

import (
	"bytes"
	"encoding/hex"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
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
	q, err := Query(queryID, "7f000001."+Zone)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "query", q)
}

func TestQueryName(t *testing.T) {
	tg := scan.Target{IP: netip.MustParseAddr("127.0.0.1"), Port: 53}
	if got := QueryName(tg); got != "7f000001."+Zone {
		t.Errorf("%s", got)
	}
}

func FuzzParseReply(f *testing.F) {
	q, _ := Query(queryID, "a."+Zone)
	f.Add(q)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReply(b, queryID)
		if err == nil && len(r.Answers) > 32 {
			t.Fatal("answer limit exceeded")
		}
	})
}
