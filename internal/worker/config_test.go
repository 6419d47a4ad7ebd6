package worker_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/worker"
)

func loadAnalysis(yaml string) (worker.Config, error) {
	w := worker.DefaultConfig()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		return w, err
	}
	return w, cfg.LoadSection("analysis", &w)
}

// TestSandboxLimitsReachTheSandbox: analysis.* values from a file are the
// options the sandbox runs with; keys left out keep the sandbox's defaults.
func TestSandboxLimitsReachTheSandbox(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       sandbox.Options
	}{
		{"defaults", "", sandbox.Options{Timeout: sandbox.DefaultTimeout, Reboot: true, CPUSeconds: sandbox.DefaultCPUSeconds,
			MemoryBytes: sandbox.DefaultMemoryBytes, MaxProcs: sandbox.DefaultMaxProcs, MaxFileBytes: sandbox.DefaultMaxFileBytes, DiskBytes: sandbox.DefaultDiskBytes}},
		{"all set", `analysis:
  timeout: 2m
  reboot: false
  sandbox:
    cpu_seconds: 30
    memory_bytes: 268435456
    max_procs: 64
    max_file_bytes: 1048576
    disk_bytes: 67108864
    boot_wait: 20s
`, sandbox.Options{Timeout: 2 * time.Minute, CPUSeconds: 30, MemoryBytes: 256 << 20, MaxProcs: 64, MaxFileBytes: 1 << 20, DiskBytes: 64 << 20, BootWait: 20 * time.Second}},
		{"one set", "analysis:\n  sandbox:\n    max_procs: 32\n", sandbox.Options{Timeout: sandbox.DefaultTimeout, Reboot: true, CPUSeconds: sandbox.DefaultCPUSeconds,
			MemoryBytes: sandbox.DefaultMemoryBytes, MaxProcs: 32, MaxFileBytes: sandbox.DefaultMaxFileBytes, DiskBytes: sandbox.DefaultDiskBytes}},
	}
	for _, tc := range tests {
		w, err := loadAnalysis(tc.yaml)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := w.SandboxOptions(nil); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: sandbox options\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

// TestBadSandboxLimitNamesKeyAndLine: every bad value is refused with the
// key's path and its line in the file.
func TestBadSandboxLimitNamesKeyAndLine(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"analysis:\n  sandbox:\n    memory_bytes: 1000\n", "line 3: analysis.sandbox.memory_bytes: must be 16 MiB"},
		{"analysis:\n  sandbox:\n    cpu_seconds: 0\n", "line 3: analysis.sandbox.cpu_seconds: must be 1..86400"},
		{"analysis:\n  sandbox:\n    max_procs: 4\n", "line 3: analysis.sandbox.max_procs: must be 8..65536"},
		{"analysis:\n  sandbox:\n    max_file_bytes: 10\n", "line 3: analysis.sandbox.max_file_bytes: must be 4 KiB"},
		{"analysis:\n  timeout: 10s\n  sandbox:\n    boot_wait: 1m\n", "line 4: analysis.sandbox.boot_wait: must be 0s..timeout (10s)"},
		{"analysis:\n  sandbox:\n    boot_wait: -1s\n", "line 3: analysis.sandbox.boot_wait"},
		{"analysis:\n  workers: 1000\n", "line 2: analysis.workers: must be 0..256"},
		{"analysis:\n  sandbox:\n    memory_bytes: lots\n", "line 3"},
		{"analysis:\n  sandbox:\n    memroy_bytes: 1\n", "line 3: unknown key analysis.sandbox.memroy_bytes"},
	}
	for _, tc := range tests {
		_, err := loadAnalysis(tc.yaml)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
