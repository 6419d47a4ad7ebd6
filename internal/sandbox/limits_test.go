package sandbox

import (
	"context"
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
		{"crash", "arm", "crash", Options{Timeout: 15 * time.Second}, func(r *Report) bool {
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
		{"memory hog", "x86_64", "memhog", Options{Timeout: 15 * time.Second, MemoryBytes: 96 << 20}, func(r *Report) bool {
			return r.Limits.Memory && r.Exit.Signal == "SIGKILL" && !r.Limits.Timeout
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
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
