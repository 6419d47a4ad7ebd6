package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestCSamples runs a small static C bot for architectures Go does not
// target, built with Debian's cross compilers.
func TestCSamples(t *testing.T) {
	needSandbox(t)
	for _, tc := range []struct {
		arch, cc string
		flags    []string
	}{
		{"powerpc", "powerpc-linux-gnu-gcc", nil},
		{"sh4", "sh4-linux-gnu-gcc", []string{"-nostdlib"}}, // see bot.c
	} {
		t.Run(tc.arch, func(t *testing.T) {
			t.Parallel()
			cc, err := exec.LookPath(tc.cc)
			if err != nil {
				t.Skipf("%s not installed (Debian gcc-%s-linux-gnu): %v", tc.cc, tc.arch, err)
			}
			out := filepath.Join(t.TempDir(), "bot")
			if b, err := exec.Command(cc, append(tc.flags, "-static", "-O2", "-o", out, filepath.Join("testdata", "samples", "c", "bot.c"))...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tc.cc, err, b)
			}
			s, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), s, Device{Arch: tc.arch}, Options{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Arch != tc.arch || !r.Exit.Finished || r.Exit.Code != 0 {
				t.Errorf("arch %q exit %+v", r.Arch, r.Exit)
			}
			if len(r.C2) != 1 || r.C2[0].Dst != "192.0.2.10:4444" {
				t.Errorf("c2 = %+v", r.C2)
			}
			if len(r.Connections) != 1 || r.Connections[0].Captured != 3 || r.Connections[0].First != `PING\n` {
				t.Errorf("connections = %+v", r.Connections)
			}
			if len(r.Watchdog) != 1 || !r.SelfDeleted {
				t.Errorf("watchdog %+v self-deleted %v", r.Watchdog, r.SelfDeleted)
			}
			if t.Failed() {
				dump(t, r)
			}
		})
	}
}

// TestSelfDelete checks the unlink of the sample's own file is reported.
func TestSelfDelete(t *testing.T) {
	needSandbox(t)
	t.Parallel()
	s := buildSample(t, "mips", "selfdelete")
	r, err := Run(context.Background(), s, Device{}, Options{Timeout: 30 * time.Second, SampleName: "mips.bin"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.SelfDeleted || r.SamplePath != "/tmp/mips.bin" {
		t.Errorf("self_deleted %v, sample path %s", r.SelfDeleted, r.SamplePath)
		dump(t, r)
	}
}
