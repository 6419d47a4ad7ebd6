package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestLimits runs samples that crash, hang, fork without end and eat memory;
// each must be stopped within its limit and the report must say which.
func TestLimits(t *testing.T) {
	needSandbox(t)
	tests := []struct {
		name, arch, mode string
		opts             Options
		check            func(*Report) bool
	}{
		{"crash", "arm", "crash", Options{Timeout: 30 * time.Second}, func(r *Report) bool {
			return r.Exit.Signal == "SIGABRT" && !r.Limits.Timeout
		}},
		{"hang", "arm", "hang", Options{Timeout: 3 * time.Second}, func(r *Report) bool {
			return r.Limits.Timeout && r.Exit.Running && !r.Exit.Finished
		}},
		{"cpu", "x86_64", "hang", Options{Timeout: 30 * time.Second, CPUSeconds: 1}, func(r *Report) bool {
			return r.Limits.CPU && r.Exit.Signal == "SIGKILL" && !r.Limits.Timeout
		}},
		{"fork bomb", "x86_64", "forkbomb", Options{Timeout: 5 * time.Second, MaxProcs: 32}, func(r *Report) bool {
			return r.Limits.Procs && !r.Exit.Finished
		}},
		{"memory hog", "x86_64", "memhog", Options{Timeout: 30 * time.Second, MemoryBytes: 96 << 20}, func(r *Report) bool {
			return r.Limits.Memory && r.Exit.Signal == "SIGKILL" && !r.Limits.Timeout
		}},
		{"file size", "arm", "bigfile", Options{Timeout: 30 * time.Second, MaxFileBytes: 1 << 20}, func(r *Report) bool {
			for _, f := range r.Files {
				if f.Path == "/tmp/big" {
					return r.Limits.FSize && f.Size == 1<<20 && r.Exit.Finished
				}
			}
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.mode == "memhog" && !memoryCgroup() {
				t.Skip("no cgroup v1 memory controller: the memory limit needs it")
			}
			s := buildSample(t, tc.arch, tc.mode)
			r, err := Run(context.Background(), s, Device{}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(r) {
				t.Errorf("exit %+v limits %+v processes %d", r.Exit, r.Limits, len(r.Processes))
				dump(t, r)
			}
		})
	}
}

// TestNoLeftovers runs a sample that leaves a detached child behind: once
// Run returns, no process of the sandbox's uids may be left on the host.
// It is not parallel, so no other run is in flight while it looks.
func TestNoLeftovers(t *testing.T) {
	needSandbox(t)
	s := buildSample(t, "arm", "daemon")
	r, err := Run(context.Background(), s, Device{}, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Limits.Timeout || len(r.Processes) < 2 {
		t.Errorf("limits %+v processes %+v: the detached child should have kept the run going", r.Limits, r.Processes)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		st, err := os.Stat(filepath.Join("/proc", e.Name()))
		if err != nil {
			continue
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid >= hostIDBase && uid < hostIDBase+hostIDSize {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			t.Errorf("process %s (uid %d, %q) survived the run", e.Name(), uid, cmdline)
		}
	}
}

func memoryCgroup() bool {
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	return err == nil
}
