package bus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
)

// TestLargeEventDoesNotBlockTheSpool (#13.2): against a server with the
// standard 1 MiB max_payload, a 1.4 MB event travels through the
// event-bodies bucket and arrives whole, and the events behind it are not
// held up; a line that can never be sent is parked, not retried forever.
func TestLargeEventDoesNotBlockTheSpool(t *testing.T) {
	srv := startServer(t, t.TempDir(), -1)
	defer srv.Shutdown()
	b, err := bus.Connect(context.Background(), bus.Options{URL: srv.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.MaxPayload() != 1<<20 {
		t.Fatalf("server max_payload %d, the test wants nats-server's default 1 MiB", b.MaxPayload())
	}
	if err := b.Apply(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp, err := bus.OpenSpool(dir, b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	want := emitN(t, sp, 5, "before")
	big := event.New("telnet", "command.dropper")
	big.Sensor = "s"
	body := strings.Repeat("\\x7f\\x45\\x4c\\x46", 350_000) // 1.4 MB, like an echo dropper
	big.SetText("content", body)
	if err := sp.Emit(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	want[big.ID] = true
	// A line no server can take (no subject) written by hand into the
	// current segment: it must be set aside.
	segs, _ := filepath.Glob(filepath.Join(dir, "events-*.jsonl"))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("garbage\n")
	f.Close()
	sp.Close() // reopen so the spool counts the hand-written line
	sp, err = bus.OpenSpool(dir, b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for id := range emitN(t, sp, 5, "after") {
		want[id] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sp.Run(ctx, time.Second)
	var gotBig *event.Event
	got := collectFn(t, b, want, func(e *event.Event) {
		if e.ID == big.ID {
			gotBig = e
		}
	})
	for id := range want {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times", id, got[id])
		}
	}
	if gotBig == nil || gotBig.Text("content") != body {
		t.Fatal("the large event arrived damaged")
	}
	waitFor(t, "the spool to drain", func() bool { return sp.Stats().PendingEvents == 0 })
	if st := sp.Stats(); st.Parked != 1 {
		t.Fatalf("parked %d lines, want the 1 malformed one", st.Parked)
	}
	parked, _ := os.ReadFile(filepath.Join(dir, "parked", "events.jsonl"))
	if string(parked) != "garbage\n" {
		t.Fatalf("parked file %q", parked)
	}
}

// TestConsumerRecreatedWhenItVanishes (#13.1): a consumer lost on the
// server (as when the only node holding it dies) is noticed, recreated,
// logged and counted, and delivery goes on without a restart.
func TestConsumerRecreatedWhenItVanishes(t *testing.T) {
	b, sp := runningSpool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1000)
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.ConsumeEvents(cctx, bus.ConsumeOptions{Durable: "vanish", StallCheck: 200 * time.Millisecond, Heartbeat: time.Second},
			func(_ context.Context, ds []bus.Delivery) error {
				for _, d := range ds {
					got <- d.Event.ID
				}
				return nil
			})
	}()
	first := emitN(t, sp, 3, "first")
	for range first {
		<-got
	}
	before := bus.Recreations("vanish")
	if err := b.JS.DeleteConsumer(ctx, bus.EventsStream, "vanish"); err != nil {
		t.Fatal(err)
	}
	second := emitN(t, sp, 3, "second")
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < len(second) {
		select {
		case id := <-got:
			seen[id] = true
		case <-deadline:
			t.Fatalf("after the consumer vanished only %d of %d events arrived", len(seen), len(second))
		}
	}
	if n := bus.Recreations("vanish") - before; n < 1 {
		t.Fatalf("recreations counted: %v", n)
	}
	ccancel()
	<-done
}
