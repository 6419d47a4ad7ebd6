package sandbox

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCleanLeftovers: a run directory left by a killed run (a tmpfs still
// mounted in it, its cgroup still there) is removed at the next start; a
// live run's directory is kept.
func TestCleanLeftovers(t *testing.T) {
	needSandbox(t)
	// its own directory and names: other processes' runs are not touched
	tmp, prefix := t.TempDir(), runDirPrefix+"cleantest-"
	stale, err := os.MkdirTemp(tmp, prefix)
	if err != nil {
		t.Fatal(err)
	}
	l := &layout{}
	if err := l.tmpfs("tmpfs", filepath.Join(stale, "vol", "0"), "/tmp", 1<<20, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, "vol", "0", "x"), []byte("left"), 0o644)
	cg := newCgroups(filepath.Base(stale), Options{MemoryBytes: 64 << 20, MaxProcs: 16})
	live, err := os.MkdirTemp(tmp, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	lock, err := lockRunDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if n, err := cleanLeftovers(tmp, prefix); err != nil || n != 1 {
		t.Fatalf("cleaned %d: %v", n, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		syscall.Unmount(filepath.Join(stale, "vol", "0"), syscall.MNT_DETACH)
		os.RemoveAll(stale)
		t.Errorf("stale run dir kept: %v", err)
	}
	for _, d := range []string{cg.v2, cg.mem, cg.pids} {
		if _, err := os.Stat(d); d != "" && !os.IsNotExist(err) {
			os.Remove(d)
			t.Errorf("stale cgroup %s kept", d)
		}
	}
	if _, err := os.Stat(filepath.Join(live, ".lock")); err != nil {
		t.Errorf("live run dir removed: %v", err)
	}
}
