package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// testHostileText: attacker bytes (NUL, invalid UTF-8) anywhere in an
// event never make the insert fail, which would make the collector retry
// the batch forever; credentials and SetText fields come back byte-exact.
func testHostileText(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)
	user, pass := "ro\x00ot", "pa\xff\x00ss"
	evs := []*event.Event{
		Event("session.connect", "H\x001", t0, "127.0.0.7").Set("src_country", "J\x00P\xfe"),
		Event("login.success", "H\x001", t0.Add(time.Second), "127.0.0.7").SetText("username", user).SetText("password", pass),
		Event("command.input", "H\x001", t0.Add(2*time.Second), "127.0.0.7").SetText("input", "echo \x00\xff"),
		Event("download.failed", "H\x001", t0.Add(3*time.Second), "127.0.0.7").SetText("url", "http://127.0.0.8/\x00\xff").Set("error", "x\x00"),
		Event("session.closed", "H\x001", t0.Add(4*time.Second), "127.0.0.7").Set("reason", "\xff"),
		scanResult("127.10.9.9", 80, t0, "Cam\x00", "crit\xff", "tpl\x00", []any{"f\x00"}, []any{"Gate \x00\xff"}),
	}
	evs[0].Sensor = "sensor\x00\xff"
	fresh, err := db.InsertEvents(ctx, evs)
	if err != nil || len(fresh) != len(evs) {
		t.Fatalf("insert of hostile text: %d %v", len(fresh), err)
	}
	page, err := db.Events(ctx, store.EventQuery{Kind: "login.success"})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("events: %v %v", page, err)
	}
	if e := page.Events[0]; e.Text("username") != user || e.Text("password") != pass {
		t.Fatalf("stored event credentials: %q %q", e.Text("username"), e.Text("password"))
	}
	ss, err := db.SessionsByIP(ctx, netip.MustParseAddr("127.0.0.7"), 10)
	if err != nil || len(ss) != 1 {
		t.Fatalf("session: %+v %v", ss, err)
	}
	if s := ss[0]; s.Username != user || s.Password != pass || !s.LoggedIn || s.Commands != 1 || s.End == nil {
		t.Fatalf("session: %+v", s)
	}
	if hs, err := db.Hosts(ctx, store.HostQuery{IP: netip.MustParseAddr("127.10.9.9")}); err != nil || len(hs) != 1 {
		t.Fatalf("host: %+v %v", hs, err)
	}
	d, err := db.Dashboard(ctx, t0, 10)
	if err != nil || len(d.TopCreds) != 1 || d.TopCreds[0].Key != user+":"+pass {
		t.Fatalf("credentials counted as %+v %v", d.TopCreds, err)
	}
	// Lookups with such bytes find nothing, and do not fail.
	if _, err := db.URL(ctx, "\x00\xff"); err != store.ErrNotFound {
		t.Fatalf("url lookup: %v", err)
	}
	if p, err := db.Events(ctx, store.EventQuery{Sensor: "\x00", Session: "\xff"}); err != nil || len(p.Events) != 0 {
		t.Fatalf("event query: %v %v", p, err)
	}
}

// testConcurrentRedelivery: collectors inserting overlapping batches at
// once store every event exactly once, report each as new exactly once,
// and count each once.
func testConcurrentRedelivery(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC)
	var all []*event.Event
	for i := 0; i < 40; i++ {
		s := fmt.Sprintf("C%d", i%4)
		all = append(all, Event("command.input", s, t0.Add(time.Duration(i)*time.Second), "127.0.0.30").SetText("input", strings.Repeat("x", i)))
	}
	const writers = 4
	news := make([][]*event.Event, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every writer sees every event, in batches that overlap
			// differently.
			for off := 0; off < len(all); off += 7 + w {
				fresh, err := db.InsertEvents(ctx, all[off:min(off+7+w, len(all))])
				if err != nil {
					errs[w] = err
					return
				}
				news[w] = append(news[w], fresh...)
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for w := range news {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		for _, e := range news[w] {
			seen[e.ID]++
		}
	}
	for _, e := range all {
		if seen[e.ID] != 1 {
			t.Fatalf("event %s reported new %d times", e.ID, seen[e.ID])
		}
	}
	if st, err := db.Stats(ctx, store.StatsQuery{}); err != nil || st.Total != int64(len(all)) {
		t.Fatalf("stats: %+v %v", st, err)
	}
	for i := 0; i < 4; i++ {
		if s, err := db.Session(ctx, fmt.Sprintf("C%d", i)); err != nil || s.Commands != 10 {
			t.Fatalf("session C%d: %+v %v", i, s, err)
		}
	}
	// A reader paging ascending sees every event once, in order.
	var n int
	q := store.EventQuery{Ascending: true, Limit: 9}
	for {
		p, err := db.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Events)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if n != len(all) {
		t.Fatalf("paged through %d events, want %d", n, len(all))
	}
}
