package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCgroupFallbacks: without any cgroup the memory limit falls back to
// an rlimit, and the report says so; nothing is silently unlimited.
func TestCgroupFallbacks(t *testing.T) {
	old := cgroupRoot
	cgroupRoot = t.TempDir() // neither hierarchy
	defer func() { cgroupRoot = old }()
	o := Options{}.withDefaults()
	c := newCgroups("kansoku-sandbox-x", o)
	if c.v2 != "" || c.mem != "" || c.pids != "" {
		t.Fatalf("cgroups in an empty dir: %+v", c)
	}
	if c.dataRlimit(o) != o.MemoryBytes {
		t.Errorf("no RLIMIT_DATA fallback")
	}
	e := strings.Join(c.enforced(o), "; ")
	for _, want := range []string{"memory: RLIMIT_DATA 536870912 bytes per process (no memory cgroup)", "tasks: RLIMIT_NPROC only", "cpu: RLIMIT_CPU 60s"} {
		if !strings.Contains(e, want) {
			t.Errorf("enforced %q lacks %q", e, want)
		}
	}
	// v1 directories (a hybrid host as this one may be): the limit files
	// are written, and the report names cgroup v1.
	for _, h := range []string{"memory", "pids"} {
		os.MkdirAll(filepath.Join(cgroupRoot, h), 0o755)
	}
	c = newCgroups("kansoku-sandbox-y", o)
	if b, err := os.ReadFile(filepath.Join(cgroupRoot, "memory", "kansoku-sandbox-y", "memory.limit_in_bytes")); err != nil || string(b) != "536870912" {
		t.Errorf("v1 memory limit: %q %v", b, err)
	}
	if c.dataRlimit(o) != 0 || !strings.Contains(strings.Join(c.enforced(o), "; "), "memory: cgroup v1 memory.limit_in_bytes 536870912 bytes") {
		t.Errorf("v1: %v", c.enforced(o))
	}
}
