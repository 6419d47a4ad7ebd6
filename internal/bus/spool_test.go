package bus_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/metrics"
)

// TestMain lets the test binary act as a sensor process for the crash
// test: with KANSOKU_SPOOL_CHILD set it emits into that spool forever,
// printing each event's number once Emit has returned.
func TestMain(m *testing.M) {
	if dir := os.Getenv("KANSOKU_SPOOL_CHILD"); dir != "" {
		spoolChild(dir)
		return
	}
	os.Exit(m.Run())
}

func spoolChild(dir string) {
	// No bus at all: the crash happens while the bus is unreachable, the
	// case where events used to wait in memory.
	sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{Fsync: bus.FsyncNever})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		e := event.New("test", "crash.test")
		e.Sensor = "s"
		e.Set("i", i)
		if err := sp.Emit(context.Background(), e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(w, "%d\n", i)
		if i%64 == 0 {
			w.Flush()
		}
	}
}

// spooledIndexes reads the "i" field of every complete line in dir.
func spooledIndexes(t *testing.T, dir string) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "events-*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(b, []byte{'\n'}) {
			_, rest, _ := bytes.Cut(l, []byte{' '})
			_, body, ok := bytes.Cut(rest, []byte{' '})
			if !ok {
				continue
			}
			e, err := event.Unmarshal(body)
			if err != nil {
				t.Fatalf("corrupt spool line %q: %v", l, err)
			}
			got[int(e.Int("i"))] = true
		}
	}
	return got
}

// TestSpoolKillNineLosesNothing: a sensor process killed with SIGKILL while
// its bus is down loses no event it had emitted (#13.3, #12.8): every
// event is on disk (write(2)) before Emit returns, so the loss window for a
// process crash is zero. Run three kills at different points.
func TestSpoolKillNineLosesNothing(t *testing.T) {
	for round, after := range []int{1, 500, 3000} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "KANSOKU_SPOOL_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		confirmed := -1
		for sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatal(err)
			}
			confirmed = n
			if n >= after {
				break
			}
		}
		// Kill while the child keeps emitting, then read what it confirmed
		// until the pipe closes.
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				confirmed = n
			}
		}
		_ = cmd.Wait()
		got := spooledIndexes(t, dir)
		for i := 0; i <= confirmed; i++ {
			if !got[i] {
				t.Fatalf("round %d: event %d was emitted before the kill but is not in the spool (%d confirmed, %d spooled)", round, i, confirmed+1, len(got))
			}
		}
		sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st := sp.Stats(); st.PendingEvents != int64(len(got)) {
			t.Errorf("round %d: reopened spool counts %d pending, %d are on disk", round, st.PendingEvents, len(got))
		}
		sp.Close()
		t.Logf("round %d: killed after %d confirmed events, %d on disk, none lost", round, confirmed+1, len(got))
	}
}

// TestSpoolBacklogIsExactAfterRestart (#13.8): a restart counts only what
// was not forwarded, not whole segment files.
func TestSpoolBacklogIsExactAfterRestart(t *testing.T) {
	dir := t.TempDir()
	b, err := bus.Connect(context.Background(), bus.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	spDir := filepath.Join(dir, "spool")
	sp, err := bus.OpenSpool(spDir, b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.Run(ctx, 5*time.Second); close(done) }()
	emitN(t, sp, 300, "forwarded")
	waitFor(t, "forwarding", func() bool { return sp.Stats().PendingEvents == 0 })
	cancel()
	<-done
	// Not forwarded: the forwarder has stopped.
	before := sp.Stats()
	emitN(t, sp, 40, "left")
	after := sp.Stats()
	if after.PendingEvents != 40 || before.PendingEvents != 0 {
		t.Fatalf("pending %d before, %d after 40 more", before.PendingEvents, after.PendingEvents)
	}
	sp.Close()
	sp2, err := bus.OpenSpool(spDir, b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp2.Close()
	if st := sp2.Stats(); st.PendingEvents != 40 || st.PendingBytes != after.PendingBytes {
		t.Fatalf("after restart: %d events, %d bytes pending; want 40 events, %d bytes", st.PendingEvents, st.PendingBytes, after.PendingBytes)
	}
	if st := sp2.Stats(); st.Oldest.IsZero() || time.Since(st.Oldest) > time.Minute {
		t.Fatalf("oldest pending event time %v", st.Oldest)
	}
}

// TestSpoolSleepsWhenIdle (#24): the forwarder wakes on work, not on a
// timer: over an idle second it does not run at all.
func TestSpoolSleepsWhenIdle(t *testing.T) {
	_, sp := runningSpool(t)
	emitN(t, sp, 10, "x")
	waitFor(t, "forwarding", func() bool { return sp.Stats().PendingEvents == 0 })
	// A wake-up already signalled by the last emits may still run once.
	time.Sleep(100 * time.Millisecond)
	w0 := sp.Stats().Wakeups
	time.Sleep(time.Second)
	if w := sp.Stats().Wakeups - w0; w != 0 {
		t.Fatalf("forwarder woke %d times in an idle second", w)
	}
	emitN(t, sp, 1, "y")
	waitFor(t, "forwarding after idle", func() bool { return sp.Stats().PendingEvents == 0 })
	if w := sp.Stats().Wakeups - w0; w < 1 || w > 3 {
		t.Fatalf("forwarder woke %d times for one event", w)
	}
}

// TestSpoolFullDiskRecovers (#12.1): on a full file system Emit fails and
// counts each dropped event, /healthz says degraded, nothing written
// before is damaged, and recording resumes by itself when space returns.
func TestSpoolFullDiskRecovers(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("a small tmpfs is needed to fill a disk safely; mount failed (not root?): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dir := filepath.Join(mnt, "spool")
	sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	before := emitN(t, sp, 100, "before")
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	failed := 0
	for i := 0; i < 50; i++ {
		e := event.New("test", "unit.test")
		e.Sensor = "s"
		e.Set("tag", "full").Set("i", i).Set("pad", strings.Repeat("x", 300))
		if err := sp.Emit(context.Background(), e); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("emit on a full disk: %v", err)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no emit failed on a full disk")
	}
	if st := sp.Stats(); st.Dropped != int64(failed) {
		t.Fatalf("dropped %d, %d emits failed", st.Dropped, failed)
	}
	if hs := metrics.Process.Status(); hs.Status != "degraded" || hs.Problems["spool"] == "" {
		t.Fatalf("health while the disk is full: %+v", hs)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	after := emitN(t, sp, 100, "after")
	if hs := metrics.Process.Status(); hs.Problems["spool"] != "" {
		t.Fatalf("health after space returned: %+v", hs)
	}
	got := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "events-*.jsonl"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, l := range bytes.Split(b, []byte{'\n'}) {
			id, rest, _ := bytes.Cut(l, []byte{' '})
			_, body, ok := bytes.Cut(rest, []byte{' '})
			if !ok {
				continue
			}
			if _, err := event.Unmarshal(body); err != nil {
				t.Fatalf("corrupt line after the full disk: %q", l)
			}
			got[string(id)] = true
		}
	}
	for id := range before {
		if !got[id] {
			t.Fatalf("event %s from before the full disk is gone", id)
		}
	}
	for id := range after {
		if !got[id] {
			t.Fatalf("event %s from after space returned is missing", id)
		}
	}
	if want := int64(len(before) + len(after) + 50 - failed); sp.Stats().PendingEvents != want {
		t.Fatalf("pending %d, want %d", sp.Stats().PendingEvents, want)
	}
}

// runningSpool is an embedded bus with a spool forwarding to it until the
// test ends.
func runningSpool(t *testing.T) (*bus.Bus, *bus.Spool) {
	t.Helper()
	dir := t.TempDir()
	b, err := bus.Connect(context.Background(), bus.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	sp, err := bus.OpenSpool(filepath.Join(dir, "spool"), b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.Run(ctx, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done; sp.Close() })
	return b, sp
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
