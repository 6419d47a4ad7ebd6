package shell

import (
	"bytes"
	"context"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

// The package's tests do not wait for `sleep`; tests that check waiting
// install a recorder through Config.Sleep.
func init() { defaultSleep = func(context.Context, time.Duration) {} }

type sleepRecorder struct{ total time.Duration }

func (r *sleepRecorder) sleep(_ context.Context, d time.Duration) { r.total += d }

func testDevice(t *testing.T, name string) *profile.Device {
	t.Helper()
	return profile.ByName(profile.Defaults(), name).Instantiate([]byte("test-seed"))
}

func newPacedShell(t *testing.T, rec *sleepRecorder, rate int, lim Limits) *Shell {
	t.Helper()
	return New(Config{Device: testDevice(t, "router-mipsel"), Hooks: &fakeHooks{}, Now: func() time.Time { return testNow },
		Rand: rand.New(rand.NewSource(1)), Sleep: rec.sleep, OutputRate: rate, Limits: lim})
}

func TestSleepWaits(t *testing.T) {
	for _, tc := range []struct {
		line string
		want time.Duration
	}{
		{"sleep 1", time.Second},
		{"sleep 0.5; sleep 2", 2500 * time.Millisecond},
		{"sleep 1m", time.Minute},
		{"usleep 250000", 250 * time.Millisecond},
		{"sleep 1 2", 3 * time.Second},
		{"sleep 3600", 60 * time.Second}, // MaxSleep bounds one Exec
		{"sleep x", 0},
	} {
		rec := &sleepRecorder{}
		s := newPacedShell(t, rec, -1, Limits{})
		s.Exec(context.Background(), tc.line, &bytes.Buffer{})
		if rec.total != tc.want {
			t.Errorf("%q slept %v, want %v", tc.line, rec.total, tc.want)
		}
	}
}

// TestOutputPacing: a 400 KB cat at 400 KB/s takes about a second of
// pauses after the first OutputBurst bytes; short output is not paced.
func TestOutputPacing(t *testing.T) {
	rec := &sleepRecorder{}
	s := newPacedShell(t, rec, 400<<10, Limits{MaxOutputBytes: 1 << 20})
	var out bytes.Buffer
	s.Exec(context.Background(), "echo hi", &out)
	if rec.total != 0 {
		t.Fatalf("echo paced %v", rec.total)
	}
	s.Exec(context.Background(), "dd if=/dev/zero of=/tmp/big bs=1024 count=400 2>/dev/null; cat /tmp/big", &out)
	want := time.Duration(400<<10-OutputBurst) * time.Second / (400 << 10)
	if d := rec.total - want; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("400 KB paced %v, want %v", rec.total, want)
	}
	if !strings.HasPrefix(out.String(), "hi\n") || out.Len() != 3+400<<10 {
		t.Fatalf("output %d bytes", out.Len())
	}
	// the profile's rate applies when Config leaves it 0
	if r := New(Config{Device: testDevice(t, "router-mipsel")}).cfg.OutputRate; r != 300<<10 {
		t.Fatalf("router-mipsel rate %d", r)
	}
}
