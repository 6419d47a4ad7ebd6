package sandbox

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// TestCopyFSStaysInside feeds copyFS an image whose symlinks point at the
// host: nothing may be written outside the destination.
func TestCopyFSStaysInside(t *testing.T) {
	host := t.TempDir()
	dst := t.TempDir()
	img := fstest.MapFS{
		"etc":        {Data: []byte(host), Mode: fs.ModeSymlink | 0o777},
		"etc/passwd": {Data: []byte("pwned")},
		"bin":        {Data: []byte(host), Mode: fs.ModeSymlink | 0o777},
		"lib/x":      {Data: []byte("ok")},
	}
	if err := copyFS(dst, img); err != nil {
		t.Fatal(err)
	}
	if err := installShell(dst); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(host)
	if len(ents) != 0 {
		t.Fatalf("copyFS wrote outside its tree: %v", ents)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "lib/x")); err != nil || string(b) != "ok" {
		t.Errorf("lib/x = %q, %v", b, err)
	}
	l := &layout{root: dst}
	os.WriteFile(filepath.Join(host, "secret"), []byte("host"), 0o600)
	os.Symlink(filepath.Join(host, "secret"), filepath.Join(dst, "lib/link"))
	if b, err := l.readFile("/lib/link", 100); err == nil {
		t.Errorf("readFile followed a symlink out of the tree: %q", b)
	}
	l.writeFile("/etc/passwd", []byte("x"), 0o644) // fails: /etc leads out
	if _, err := os.Stat(filepath.Join(host, "passwd")); err == nil {
		t.Error("writeFile wrote through a symlink to the host")
	}
}
