package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
				t.Skip("no memory cgroup (v2 or v1) on this host: the run's limit is RLIMIT_DATA, stated in limits.enforced")
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
// Run returns, no process of a finished run may be left on the host. A
// process belongs to a finished run when its pids cgroup names a run dir
// that no longer exists (another test binary's sandboxes may be running).
func TestNoLeftovers(t *testing.T) {
	needSandbox(t)
	if _, err := os.Stat("/sys/fs/cgroup/pids"); err != nil {
		t.Skip("no cgroup v1 pids controller to tell runs apart")
	}
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
		cg, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(cg), "\n") {
			_, p, ok := strings.Cut(line, ":pids:/")
			if !ok || !strings.HasPrefix(p, "kansoku-sandbox-") {
				continue
			}
			dir := filepath.Join(os.TempDir(), strings.TrimSuffix(p, "-reboot"))
			if _, err := os.Stat(dir); err != nil {
				cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				t.Errorf("process %s (%q) of finished run %s survived", e.Name(), cmdline, p)
			}
		}
	}
}

// memoryCgroup says whether a memory cgroup (v2 or v1) can hold a run;
// without one the limit is RLIMIT_DATA, which the report states.
func memoryCgroup() bool {
	if unified() != "" {
		return true
	}
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	return err == nil
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{Timeout: -1}, {MemoryBytes: 1 << 20}, {MaxProcs: 2}, {CPUSeconds: -5}, {DiskBytes: 1 << 20},
		{Argv: []string{"/proc/x"}}, {Argv: []string{""}}, {Argv: []string{"./a\x00b"}}} {
		if o.Validate() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

// TestCancel stops a hanging sample through the context.
func TestCancel(t *testing.T) {
	needSandbox(t)
	t.Parallel()
	s := buildSample(t, "arm", "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, err := Run(ctx, s, Device{}, Options{Timeout: time.Minute})
	if err == nil || r == nil {
		t.Fatalf("err %v, report %v: want the context's error and the partial report", err, r != nil)
	}
	if r.Limits.Timeout || r.Exit.Finished {
		t.Errorf("limits %+v exit %+v", r.Limits, r.Exit)
	}
}
