package profile

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestELFGolden pins the header bytes of every architecture: bots compare
// them byte for byte with their own lists, so a change must be deliberate.
func TestELFGolden(t *testing.T) {
	for _, arch := range Arches {
		got := hex.Dump(ELFHeader(arch))
		file := filepath.Join("testdata", "elf", arch+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if got != string(want) {
			t.Errorf("%s header changed:\n%s\nwant:\n%s", arch, got, want)
		}
	}
}
