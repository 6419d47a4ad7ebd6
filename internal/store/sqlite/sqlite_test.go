package sqlite_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ev(kind, session string, at time.Time, src string) *event.Event {
	e := event.New("telnet", kind)
	e.Time, e.Sensor, e.Session = at, "s1", session
	e.SrcIP, e.SrcPort = netip.MustParseAddr(src), 40000
	e.DstIP, e.DstPort = netip.MustParseAddr("127.0.0.1"), 2323
	return e
}

func TestInsertIsIdempotentAndDerives(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	batch := []*event.Event{
		ev("session.connect", "S1", t0, "127.0.0.2").Set("src_country", "JP"),
		ev("login.failed", "S1", t0.Add(time.Second), "127.0.0.2").SetText("username", "root").SetText("password", "xc3511"),
		ev("login.success", "S1", t0.Add(2*time.Second), "127.0.0.2").SetText("username", "root").SetText("password", "vizxv\xff"),
		ev("command.input", "S1", t0.Add(3*time.Second), "127.0.0.2").SetText("input", "enable"),
		ev("download.ok", "S1", t0.Add(4*time.Second), "127.0.0.2").SetText("url", "http://198.51.100.7/bins/x.arm7").Set("sha256", sha),
		ev("sample.captured", "S1", t0.Add(4*time.Second), "127.0.0.2").Set("sha256", sha).Set("sha1", "s1").Set("md5", "m5").Set("size", 1234).SetText("url", "http://198.51.100.7/bins/x.arm7"),
		ev("session.closed", "S1", t0.Add(9*time.Second), "127.0.0.2").Set("duration", 9.0).Set("bytes_in", 100).Set("bytes_out", 2000).Set("reason", "client"),
		ev("sample.captured", "S2", t0.Add(time.Hour), "127.0.0.3").Set("sha256", sha).Set("sha1", "s1").Set("md5", "m5").Set("size", 1234),
	}
	fresh, err := db.InsertEvents(ctx, batch)
	if err != nil || len(fresh) != len(batch) {
		t.Fatalf("first insert: %d, %v", len(fresh), err)
	}
	// A redelivered batch (the collector crashed before acking) changes nothing.
	fresh, err = db.InsertEvents(ctx, batch)
	if err != nil || len(fresh) != 0 {
		t.Fatalf("redelivery inserted %d, %v", len(fresh), err)
	}
	page, err := db.Events(ctx, store.EventQuery{Limit: 1000})
	if err != nil || len(page.Events) != len(batch) {
		t.Fatalf("events: %d, %v", len(page.Events), err)
	}
	s, err := db.Session(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	if !s.LoggedIn || s.Username != "root" || s.Password != "vizxv\xff" || s.Commands != 1 || s.Duration != 9 || s.BytesOut != 2000 || s.Country != "JP" {
		t.Fatalf("session: %+v", s)
	}
	sm, err := db.Sample(ctx, sha)
	if err != nil || sm.SourceCount != 2 || sm.Size != 1234 || !sm.FirstSeen.Equal(t0.Add(4*time.Second)) || !sm.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("sample: %+v %v", sm, err)
	}
	urls, err := db.URLs(ctx, store.ListQuery{})
	if err != nil || len(urls) != 1 || urls[0].Status != "online" || urls[0].Host != "198.51.100.7" || urls[0].Count != 1 {
		t.Fatalf("urls: %+v %v", urls, err)
	}
	st, err := db.Stats(ctx, store.StatsQuery{})
	if err != nil || st.Total != int64(len(batch)) {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if st.ByDay[0].Key != "2026-11-01" || st.ByKind[0].Key == "" {
		t.Fatalf("stats: %+v", st)
	}
}

func TestEventFiltersAndCursor(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var batch []*event.Event
	for i := 0; i < 250; i++ {
		src := fmt.Sprintf("127.0.1.%d", i%5)
		batch = append(batch, ev("login.failed", fmt.Sprintf("S%d", i%10), t0.Add(time.Duration(i)*time.Minute), src))
	}
	if _, err := db.InsertEvents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	q := store.EventQuery{SrcIP: netip.MustParseAddr("127.0.1.3"), Limit: 7}
	for pages := 0; ; pages++ {
		p, err := db.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			if e.SrcIP.String() != "127.0.1.3" || seen[e.ID] {
				t.Fatalf("bad or repeated event %s from %s", e.ID, e.SrcIP)
			}
			seen[e.ID] = true
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if len(seen) != 50 {
		t.Fatalf("paged through %d events, want 50", len(seen))
	}
	p, err := db.Events(ctx, store.EventQuery{Since: t0.Add(100 * time.Minute), Until: t0.Add(110 * time.Minute), Ascending: true})
	if err != nil || len(p.Events) != 10 || !p.Events[0].Time.Equal(t0.Add(100*time.Minute)) {
		t.Fatalf("time window: %d %v", len(p.Events), err)
	}
	if _, err := db.Events(ctx, store.EventQuery{After: "!!"}); err == nil {
		t.Fatal("bad cursor accepted")
	}
}

func TestUnwritableDirectoryIsAClearError(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A data directory path that runs through a regular file cannot be
	// created even by root, which is how CI runs.
	_, err := sqlite.Open(context.Background(), filepath.Join(blocker, "sub", "k.db"))
	if err == nil {
		t.Fatal("opened a database under a regular file")
	}
	if !strings.Contains(err.Error(), "store:") {
		t.Fatalf("error does not say what failed: %v", err)
	}
}

func BenchmarkInsertBatch(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]*event.Event, 1000)
		for j := range batch {
			batch[j] = ev("login.failed", "S", t0, "127.0.0.5").SetText("username", "root").SetText("password", "admin")
		}
		if _, err := db.InsertEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}

func TestReportsFollowSamples(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	sha := strings.Repeat("cd", 32)
	cap := ev("sample.captured", "S", t0, "127.0.0.2").Set("sha256", sha).Set("sha1", "a").Set("md5", "b").Set("size", 10)
	if _, err := db.InsertEvents(ctx, []*event.Event{cap}); err != nil {
		t.Fatal(err)
	}
	r, err := db.Report(ctx, sha)
	if err != nil || r.Status != "queued" {
		t.Fatalf("report after capture: %+v %v", r, err)
	}
	rep := event.New("sandbox", "analysis.report")
	rep.Time, rep.Sensor = t0.Add(time.Minute), "w1"
	rep.Set("sha256", sha).Set("status", "done").Set("family", "mirai").Set("arch", "arm").Set("file_type", "elf").
		Set("report", map[string]any{"static": map[string]any{"arch": "arm"}}).
		Set("c2", []any{map[string]any{"host": "cnc.example.net", "port": 23.0, "source": "sandbox"}, map[string]any{"host": "", "port": 1.0}}).
		Set("urls", []any{"http://198.51.100.3/bins/mirai.arm"})
	if _, err := db.InsertEvents(ctx, []*event.Event{rep}); err != nil {
		t.Fatal(err)
	}
	r, err = db.Report(ctx, sha)
	if err != nil || r.Status != "done" || r.Family != "mirai" || !strings.Contains(string(r.Report), `"arch":"arm"`) {
		t.Fatalf("report: %+v %v", r, err)
	}
	s, _ := db.Sample(ctx, sha)
	if s.Family != "mirai" || s.Arch != "arm" {
		t.Fatalf("sample not updated from report: %+v", s)
	}
	c2s, err := db.C2s(ctx, store.ListQuery{})
	if err != nil || len(c2s) != 1 || c2s[0].Host != "cnc.example.net" || c2s[0].Port != 23 || c2s[0].Family != "mirai" {
		t.Fatalf("c2s: %+v %v", c2s, err)
	}
	urls, _ := db.URLs(ctx, store.ListQuery{})
	if len(urls) != 1 || urls[0].URL != "http://198.51.100.3/bins/mirai.arm" {
		t.Fatalf("urls from report: %+v", urls)
	}
	if _, err := db.Report(ctx, strings.Repeat("0", 64)); err != store.ErrNotFound {
		t.Fatalf("missing report: %v", err)
	}
}

func TestHostsFromScanResults(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	mk := func(at time.Time, findings []any, class string) *event.Event {
		e := event.New("scan", "scan.result")
		e.Time, e.Sensor, e.Transport = at, "scanner", "tcp"
		e.DstIP, e.DstPort = netip.MustParseAddr("127.10.0.5"), 80
		e.Set("data", map[string]any{"http": map[string]any{"status": "success"}, "telnet": map[string]any{"status": "connection-refused"}})
		e.Set("classification", map[string]any{"vendor": "Acme", "product": "WL-100 logger", "device_type": "data-logger", "class": class})
		e.Set("findings", findings).Set("labels", []any{"North Reservoir Gate 3"}).Set("template", "abcd")
		return e
	}
	evs := []*event.Event{mk(t0, []any{"login-page-exposed"}, ""), mk(t0.Add(time.Hour), []any{"no-authentication"}, "critical")}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	hs, err := db.Hosts(ctx, store.HostQuery{Class: "critical"})
	if err != nil || len(hs) != 1 {
		t.Fatalf("hosts: %+v %v", hs, err)
	}
	h := hs[0]
	if h.Service != "http" || h.Product != "WL-100 logger" || len(h.Findings) != 1 || h.Findings[0] != "no-authentication" ||
		h.Labels[0] != "North Reservoir Gate 3" || !h.FirstSeen.Equal(t0) || !h.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("host: %+v", h)
	}
	if hs, _ := db.Hosts(ctx, store.HostQuery{Finding: "no-authentication", Prefix: netip.MustParsePrefix("127.10.0.0/16")}); len(hs) != 1 {
		t.Fatalf("finding+prefix query: %d", len(hs))
	}
	if hs, _ := db.Hosts(ctx, store.HostQuery{IP: netip.MustParseAddr("127.10.0.6")}); len(hs) != 0 {
		t.Fatal("host for another address")
	}
}
