package alert

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// clock is a settable clock shared by the dispatcher and the scheduler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time   { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)  { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func at(day, hm string) time.Time { t, _ := time.Parse("2006-01-02 15:04", day+" "+hm); return t.UTC() }

// memEvents is an EventSource over a slice.
func memEvents(evs ...*event.Event) EventSource {
	return func(ctx context.Context, since, until time.Time, fn func(*event.Event) error) error {
		for _, e := range evs {
			if !e.Time.Before(since) && e.Time.Before(until) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func eventAt(e *event.Event, t time.Time, src string) *event.Event {
	e.Time, e.SrcIP = t, netip.MustParseAddr(src)
	return e
}

func digestPayloads(t *testing.T, h *hook, n int) []Payload {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-h.got:
		case <-time.After(wait):
			t.Fatalf("%d of %d digest deliveries", i, n)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Payload
	for _, b := range h.bodies {
		var p Payload // its Report (an ordered object) is not read back
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	h.bodies = nil
	return out
}

// TestDailyDigestOncePerDay drives the scheduler with an injected clock:
// nothing before the hour, the previous day's rows at it, nothing again
// that day, not even after a restart, and the next day's digest the day
// after; a subscriber whose endpoint fails gets dead letters as with alerts.
func TestDailyDigestOncePerDay(t *testing.T) {
	clk := &clock{t: at("2026-11-25", "05:59")}
	h, srv := newHookAt(t, func(int) int { return 200 }, clk.now)
	_, failing := newHookAt(t, func(int) int { return 500 }, clk.now)
	broken := webhookSub(failing.URL)
	broken.ID = "sub-broken"
	ok := webhookSub(srv.URL)
	ok.Kinds = nil // every kind
	cfg := testConfig(ok, broken)
	cfg.MaxAttempts = 1 // retries are due on the injected clock, which stands still
	d, err := NewDispatcher(cfg, nil, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	src := memEvents(
		eventAt(ampEvent(), at("2026-11-24", "00:00"), "192.0.2.7"),
		eventAt(bruteEvent(), at("2026-11-24", "23:59"), "192.0.2.8"),
		eventAt(bruteEvent(), at("2026-11-24", "12:00"), "198.51.100.1"), // not a subscriber's
		eventAt(bruteEvent(), at("2026-11-23", "23:59"), "192.0.2.9"),    // the day before
		eventAt(bruteEvent(), at("2026-11-25", "00:00"), "192.0.2.10"),   // today
	)
	state := filepath.Join(t.TempDir(), "alerts", "digest.last")
	newSched := func() *DigestScheduler {
		return &DigestScheduler{D: d, Events: src, Hour: 6, StatePath: state, Now: clk.now}
	}
	s := newSched()
	ctx := context.Background()
	if day, err := s.Tick(ctx); err != nil || day != "" {
		t.Fatalf("before the hour: sent %q, %v", day, err)
	}
	clk.set(at("2026-11-25", "06:00"))
	if day, err := s.Tick(ctx); err != nil || day != "2026-11-24" {
		t.Fatalf("at the hour: sent %q, %v", day, err)
	}
	got := map[Layout]Payload{}
	for _, p := range digestPayloads(t, h, 2) {
		got[p.Layout] = p
	}
	amp, brute := got[LayoutAmp], got[LayoutBruteForce]
	if amp.Kind != KindDigest || amp.Day != "2026-11-24" || amp.Rows != 1 || !strings.Contains(amp.CSV, "192.0.2.7") || amp.Subscription != "sub-1" {
		t.Errorf("amp digest %+v", amp)
	}
	if brute.Rows != 1 || !strings.Contains(brute.CSV, "192.0.2.8") || strings.Contains(brute.CSV, "198.51.100.1") ||
		strings.Contains(brute.CSV, "192.0.2.9") || strings.Contains(brute.CSV, "192.0.2.10") {
		t.Errorf("brute-force digest %+v", brute)
	}
	// sub-broken (amp-victim only) had the 24th's amp row.
	deadline := time.Now().Add(wait)
	for len(d.DeadLetters()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the failing digest was not dead-lettered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if dl := d.DeadLetters()[0]; dl.Subscription != "sub-broken" || dl.Payload.Kind != KindDigest {
		t.Fatalf("dead letter %+v", dl)
	}
	clk.set(at("2026-11-25", "23:00"))
	if day, _ := s.Tick(ctx); day != "" {
		t.Fatalf("sent %s twice", day)
	}
	if day, _ := newSched().Tick(ctx); day != "" {
		t.Fatalf("sent %s again after a restart", day)
	}
	clk.set(at("2026-11-26", "07:30"))
	if day, err := newSched().Tick(ctx); err != nil || day != "2026-11-25" {
		t.Fatalf("next day: sent %q, %v", day, err)
	}
	if ps := digestPayloads(t, h, 1); ps[0].Layout != LayoutBruteForce || !strings.Contains(ps[0].CSV, "192.0.2.10") {
		t.Fatalf("next day's digest %+v", ps)
	}
}

// TestDigestRunWaitsForTheHour: Run sleeps until the next digest time on
// the injected clock, sends, then waits a day.
func TestDigestRunWaitsForTheHour(t *testing.T) {
	clk := &clock{t: at("2026-11-25", "04:30")}
	h, srv := newHookAt(t, func(int) int { return 200 }, clk.now)
	d, err := NewDispatcher(testConfig(webhookSub(srv.URL)), nil, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	s := &DigestScheduler{D: d, Events: memEvents(eventAt(ampEvent(), at("2026-11-24", "10:00"), "192.0.2.7")), Hour: 6,
		StatePath: filepath.Join(t.TempDir(), "digest.last"), Now: clk.now,
		After: func(d time.Duration) <-chan time.Time { waits <- d; return fire }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	if w := <-waits; w != 90*time.Minute {
		t.Fatalf("first wait %s, want 1h30m", w)
	}
	clk.set(at("2026-11-25", "06:00"))
	fire <- clk.now()
	if ps := digestPayloads(t, h, 1); ps[0].Day != "2026-11-24" {
		t.Fatalf("digest %+v", ps)
	}
	if w := <-waits; w != 24*time.Hour {
		t.Fatalf("wait after sending %s, want 24h", w)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDigestMail(t *testing.T) {
	p := Payload{ID: "x", Kind: KindDigest, Subscription: "noc-1", Layout: LayoutAmp, Day: "2026-11-24", Rows: 3, CSV: "a,b\n1,2\n"}
	msg, err := buildMail("kansoku@localhost", []string{"noc@example.invalid"}, p, at("2026-11-25", "06:00"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), "Subject: [kansoku] daily amp report for 2026-11-24: 3 rows\r\n") {
		t.Fatalf("mail:\n%s", msg)
	}
}
