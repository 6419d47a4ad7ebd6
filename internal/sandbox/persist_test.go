package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestPersistence writes boot-time persistence (or only volatile files) and
// checks the verdict, proved by the simulated reboot.
func TestPersistence(t *testing.T) {
	needSandbox(t)
	tests := []struct {
		name, arch, mode string
		verdict          string
		restarted        bool
		file             string // persistence file the report must name
	}{
		{"init.d", "arm", "persist-init", VerdictPersistent, true, "/etc/init.d/S95x"},
		{"crontab", "mipsel", "persist-cron", VerdictPersistent, true, "/etc/crontabs/root"},
		{"tmp only", "arm", "volatile", VerdictVolatile, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := buildSample(t, tc.arch, tc.mode)
			r, err := Run(context.Background(), s, Device{}, Options{Timeout: 30 * time.Second, BootWait: 30 * time.Second, Reboot: true})
			if err != nil {
				t.Fatal(err)
			}
			p := r.Persistence
			if p.Verdict != tc.verdict || p.Restarted != tc.restarted || !p.RebootRun {
				t.Errorf("persistence = %+v, want %s restarted=%v", p, tc.verdict, tc.restarted)
			}
			if tc.file != "" && !slices.Contains(p.Files, tc.file) {
				t.Errorf("persistence files = %v, want %s", p.Files, tc.file)
			}
			steps := len(p.RemovalSteps)
			if tc.verdict == VerdictPersistent && steps != 5 || tc.verdict == VerdictVolatile && steps != 3 {
				t.Errorf("removal steps = %q", p.RemovalSteps)
			}
			if tc.restarted {
				// the restarted copy dials its own address: proof it ran
				ok := false
				for _, rp := range p.RebootProcs {
					ok = ok || rp.SHA256 == r.SHA256
				}
				if !ok {
					t.Errorf("no reboot process runs the sample: %+v", p.RebootProcs)
				}
			}
			if tc.verdict == VerdictVolatile {
				var tmp bool
				for _, f := range r.Files {
					tmp = tmp || f.Path == "/tmp/.v" && !f.Persistent && f.SHA256 == r.SHA256
				}
				if !tmp {
					t.Errorf("files = %+v, want /tmp/.v with the sample's hash", r.Files)
				}
			}
			if t.Failed() || testing.Verbose() {
				dump(t, r)
			}
		})
	}
}
