// Package modtest holds what the scanner modules' tests share: the golden
// files of the probe bytes each module sends. Only tests import it.
package modtest

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Golden compares probe bytes with testdata/<name>.golden (a hex dump, so a
// changed byte shows in review); -update rewrites the file.
func Golden(t *testing.T, name string, got []byte) {
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
