package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/nats-io/nats-server/v2/server"
)

func emitN(t *testing.T, sp *bus.Spool, n int, tag string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for i := 0; i < n; i++ {
		e := event.New("test", "unit.test")
		e.Sensor = "s"
		e.Set("tag", tag).Set("i", i)
		if err := sp.Emit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		ids[e.ID] = true
	}
	return ids
}

// collect consumes until want ids are seen (or the guard expires) and
// returns how often each id arrived in acknowledged batches.
func collect(t *testing.T, b *bus.Bus, want map[string]bool) map[string]int {
	t.Helper()
	return collectFn(t, b, want, nil)
}

// collectFn is collect that also shows each event to fn.
func collectFn(t *testing.T, b *bus.Bus, want map[string]bool, fn func(*event.Event)) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	got := map[string]int{}
	go b.ConsumeEvents(ctx, bus.ConsumeOptions{Durable: "t"}, func(_ context.Context, ds []bus.Delivery) error {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			if d.Bad != nil {
				t.Errorf("bad delivery: %v", d.Bad)
				continue
			}
			got[d.Event.ID]++
			if fn != nil {
				fn(d.Event)
			}
		}
		seen := 0
		for id := range want {
			if got[id] > 0 {
				seen++
			}
		}
		if seen == len(want) {
			cancel()
		}
		return nil
	})
	<-ctx.Done()
	mu.Lock()
	defer mu.Unlock()
	return got
}

func TestEmbeddedRoundTrip(t *testing.T) {
	dir := t.TempDir()
	b, err := bus.Connect(context.Background(), bus.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sp, err := bus.OpenSpool(dir+"/spool", b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sp.Run(ctx, 10*time.Second); close(done) }()
	want := emitN(t, sp, 5000, "a")
	info, err := sp.PutSample(ctx, []byte("\x7fELF sample"))
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, b, want)
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times", id, got[id])
		}
	}
	cancel()
	<-done
	data, err := b.Get(context.Background(), bus.SamplesBucket, info.SHA256)
	if err != nil || string(data) != "\x7fELF sample" {
		t.Fatalf("sample: %q %v", data, err)
	}
}

func startServer(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(20 * time.Second) {
		t.Fatal("nats not ready")
	}
	return s
}

// TestBuffersWhileBusIsDown: a sensor whose NATS server goes away keeps
// emitting into the spool and delivers everything, once, when it returns.
func TestBuffersWhileBusIsDown(t *testing.T) {
	natsDir := t.TempDir()
	srv := startServer(t, natsDir, -1)
	port := srv.Addr().(interface{ String() string }).String()
	url := "nats://" + port
	b, err := bus.Connect(context.Background(), bus.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	sp, err := bus.OpenSpool(t.TempDir(), b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sp.Run(ctx, 5*time.Second)
	want := emitN(t, sp, 200, "before")
	srv.Shutdown()
	srv.WaitForShutdown()
	for k := range emitN(t, sp, 300, "during") {
		want[k] = true
	}
	sp.Flush()
	if sp.Pending() == 0 {
		t.Fatal("nothing pending while the bus is down")
	}
	var p int
	fmt.Sscanf(port[len("127.0.0.1:"):], "%d", &p)
	srv2 := startServer(t, natsDir, p)
	defer srv2.Shutdown()
	for k := range emitN(t, sp, 100, "after") {
		want[k] = true
	}
	got := collect(t, b, want)
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times (want exactly once)", id, got[id])
		}
	}
}
