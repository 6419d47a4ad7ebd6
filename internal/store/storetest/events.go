package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func testInsertIsIdempotentAndDerives(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	batch := []*event.Event{
		Event("session.connect", "S1", t0, "127.0.0.2").Set("src_country", "JP"),
		Event("login.failed", "S1", t0.Add(time.Second), "127.0.0.2").SetText("username", "root").SetText("password", "xc3511"),
		Event("login.success", "S1", t0.Add(2*time.Second), "127.0.0.2").SetText("username", "root").SetText("password", "vizxv\xff"),
		Event("command.input", "S1", t0.Add(3*time.Second), "127.0.0.2").SetText("input", "enable"),
		Event("download.ok", "S1", t0.Add(4*time.Second), "127.0.0.2").SetText("url", "http://198.51.100.7/bins/x.arm7").Set("sha256", sha),
		Event("sample.captured", "S1", t0.Add(4*time.Second), "127.0.0.2").Set("sha256", sha).Set("sha1", "s1").Set("md5", "m5").Set("size", 1234).SetText("url", "http://198.51.100.7/bins/x.arm7"),
		Event("session.closed", "S1", t0.Add(9*time.Second), "127.0.0.2").Set("duration", 9.0).Set("bytes_in", 100).Set("bytes_out", 2000).Set("reason", "client"),
		Event("sample.captured", "S2", t0.Add(time.Hour), "127.0.0.3").Set("sha256", sha).Set("sha1", "s1").Set("md5", "m5").Set("size", 1234),
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
	// Newest first, and every field survives the round trip.
	got := page.Events[len(page.Events)-1]
	if got.ID != batch[0].ID || !got.Time.Equal(t0) || got.Sensor != "s1" || got.Honeypot != "telnet" || got.Session != "S1" ||
		got.SrcIP != netip.MustParseAddr("127.0.0.2") || got.SrcPort != 40000 || got.DstIP != netip.MustParseAddr("127.0.0.1") ||
		got.DstPort != 2323 || got.Str("src_country") != "JP" {
		t.Fatalf("stored event: %+v", got)
	}
	s, err := db.Session(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	if !s.LoggedIn || s.Username != "root" || s.Password != "vizxv\xff" || s.Commands != 1 || s.Duration != 9 || s.BytesOut != 2000 || s.Country != "JP" {
		t.Fatalf("session: %+v", s)
	}
	if s.End == nil || !s.End.Equal(t0.Add(9*time.Second)) || !s.Start.Equal(t0) || s.Reason != "client" || s.SrcIP != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("session times: %+v", s)
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
	sm, err := db.Sample(ctx, sha)
	if err != nil || sm.SourceCount != 2 || sm.Size != 1234 || !sm.FirstSeen.Equal(t0.Add(4*time.Second)) || !sm.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("sample: %+v %v", sm, err)
	}
	if sm.URL != "http://198.51.100.7/bins/x.arm7" || sm.SHA1 != "s1" || sm.MD5 != "m5" {
		t.Fatalf("sample fields: %+v", sm)
	}
	if _, err := db.Sample(ctx, strings.Repeat("0", 64)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing sample: %v", err)
	}
	urls, err := db.URLs(ctx, store.ListQuery{})
	if err != nil || len(urls) != 1 || urls[0].Status != "online" || urls[0].Host != "198.51.100.7" || urls[0].Count != 1 || urls[0].SHA256 != sha {
		t.Fatalf("urls: %+v %v", urls, err)
	}
	st, err := db.Stats(ctx, store.StatsQuery{})
	if err != nil || st.Total != int64(len(batch)) {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if st.ByDay[0].Key != "2026-11-01" || st.ByKind[0].Key == "" {
		t.Fatalf("stats: %+v", st)
	}
	// Kinds come most frequent first, ties by name.
	if k := st.ByKind[0]; k.Key != "sample.captured" || k.N != 2 {
		t.Fatalf("stats by kind: %+v", st.ByKind)
	}
	if len(st.ByCountry) != 2 || st.ByCountry[0] != (store.Count{Key: "", N: 7}) || st.ByCountry[1] != (store.Count{Key: "JP", N: 1}) {
		t.Fatalf("stats by country: %+v", st.ByCountry)
	}
	if st, err := db.Stats(ctx, store.StatsQuery{Since: t0.AddDate(0, 0, 1)}); err != nil || st.Total != 0 {
		t.Fatalf("stats after the day: %+v %v", st, err)
	}
}

// testRedeliveryInsideOneBatch: the bus may hand the collector the same
// event twice in one batch; it is stored and counted once.
func testRedeliveryInsideOneBatch(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	c := Event("session.connect", "D1", t0, "127.0.0.4")
	in := Event("command.input", "D1", t0.Add(time.Second), "127.0.0.4").SetText("input", "id")
	fresh, err := db.InsertEvents(ctx, []*event.Event{c, in, in, c})
	if err != nil || len(fresh) != 2 || fresh[0] != c || fresh[1] != in {
		t.Fatalf("insert with repeats: %v %v", fresh, err)
	}
	s, err := db.Session(ctx, "D1")
	if err != nil || s.Commands != 1 {
		t.Fatalf("session counted a repeat: %+v %v", s, err)
	}
	if st, err := db.Stats(ctx, store.StatsQuery{}); err != nil || st.Total != 2 {
		t.Fatalf("stats counted a repeat: %+v %v", st, err)
	}
	if fresh, err := db.InsertEvents(ctx, nil); err != nil || len(fresh) != 0 {
		t.Fatalf("empty batch: %v %v", fresh, err)
	}
}

func testEventFiltersAndCursor(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var batch []*event.Event
	for i := 0; i < 250; i++ {
		src := fmt.Sprintf("127.0.1.%d", i%5)
		batch = append(batch, Event("login.failed", fmt.Sprintf("S%d", i%10), t0.Add(time.Duration(i)*time.Minute), src))
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
	// Ascending pages continue in ascending order.
	p2, err := db.Events(ctx, store.EventQuery{Since: t0.Add(100 * time.Minute), Ascending: true, Limit: 3, After: ""})
	if err != nil || len(p2.Events) != 3 || p2.Next == "" {
		t.Fatalf("ascending page: %d %q %v", len(p2.Events), p2.Next, err)
	}
	p3, err := db.Events(ctx, store.EventQuery{Since: t0.Add(100 * time.Minute), Ascending: true, Limit: 3, After: p2.Next})
	if err != nil || len(p3.Events) != 3 || !p3.Events[0].Time.Equal(t0.Add(103*time.Minute)) {
		t.Fatalf("next ascending page: %d %v", len(p3.Events), err)
	}
	for _, tc := range []struct {
		name string
		q    store.EventQuery
		want int
	}{
		{"session", store.EventQuery{Session: "S3", Limit: 1000}, 25},
		{"sensor", store.EventQuery{Sensor: "s1", Limit: 1000}, 250},
		{"other sensor", store.EventQuery{Sensor: "s2", Limit: 1000}, 0},
		{"honeypot", store.EventQuery{Honeypot: "telnet", Limit: 1000}, 250},
		{"kind", store.EventQuery{Kind: "login.success", Limit: 1000}, 0},
		{"default limit", store.EventQuery{}, 100},
	} {
		p, err := db.Events(ctx, tc.q)
		if err != nil || len(p.Events) != tc.want {
			t.Errorf("%s: %d events, want %d (%v)", tc.name, len(p.Events), tc.want, err)
		}
	}
	for _, c := range []string{"!!", "bm90IGEgbnVtYmVy"} {
		if _, err := db.Events(ctx, store.EventQuery{After: c}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

// testListCursors pages samples, URLs and C2s in first-seen order.
func testListCursors(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for i := 0; i < 5; i++ {
		sha := strings.Repeat(fmt.Sprintf("%02x", i), 32)
		at := t0.Add(time.Duration(i) * time.Hour)
		u := fmt.Sprintf("http://127.0.0.%d/bins/x", i+1)
		evs = append(evs,
			Event("sample.captured", "S", at, "127.0.0.2").Set("sha256", sha).Set("size", i),
			Event("download.failed", "S", at, "127.0.0.2").SetText("url", u).Set("error", "refused-address"))
		rep := event.New("sandbox", "analysis.report")
		rep.Time, rep.Sensor = at, "w1"
		rep.Set("sha256", sha).Set("family", "mirai").Set("c2", []any{map[string]any{"host": fmt.Sprintf("c%d.example.net", i), "port": 23.0, "source": "static", "publish": true}})
		evs = append(evs, rep)
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var samples []string
	q := store.ListQuery{Limit: 2}
	for i := 0; i < 10; i++ {
		page, err := db.Samples(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			samples = append(samples, s.SHA256[:2])
		}
		if len(page) < 2 {
			break
		}
		q.After = page[len(page)-1].Cursor
	}
	if strings.Join(samples, " ") != "00 01 02 03 04" {
		t.Fatalf("sample pages: %v", samples)
	}
	if got, _ := db.Samples(ctx, store.ListQuery{Since: t0.Add(3 * time.Hour)}); len(got) != 2 {
		t.Fatalf("samples since: %d", len(got))
	}
	urls, err := db.URLs(ctx, store.ListQuery{Limit: 3})
	if err != nil || len(urls) != 3 || urls[0].Status != "unknown" || urls[0].Host != "127.0.0.1" {
		t.Fatalf("urls: %+v %v", urls, err)
	}
	rest, err := db.URLs(ctx, store.ListQuery{After: urls[2].Cursor})
	if err != nil || len(rest) != 2 || rest[0].URL != "http://127.0.0.4/bins/x" {
		t.Fatalf("next urls: %+v %v", rest, err)
	}
	c2s, err := db.C2s(ctx, store.ListQuery{Limit: 4})
	if err != nil || len(c2s) != 4 || c2s[0].Host != "c0.example.net" || c2s[0].Source != "static" {
		t.Fatalf("c2s: %+v %v", c2s, err)
	}
	if rest, err := db.C2s(ctx, store.ListQuery{After: c2s[3].Cursor}); err != nil || len(rest) != 1 || rest[0].Host != "c4.example.net" {
		t.Fatalf("next c2s: %+v %v", rest, err)
	}
	for name, f := range map[string]func(store.ListQuery) error{
		"samples": func(q store.ListQuery) error { _, err := db.Samples(ctx, q); return err },
		"urls":    func(q store.ListQuery) error { _, err := db.URLs(ctx, q); return err },
		"c2s":     func(q store.ListQuery) error { _, err := db.C2s(ctx, q); return err },
	} {
		if err := f(store.ListQuery{After: "!!"}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("%s with a bad cursor: %v", name, err)
		}
	}
}

func testReportsFollowSamples(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	sha := strings.Repeat("cd", 32)
	capture := Event("sample.captured", "S", t0, "127.0.0.2").Set("sha256", sha).Set("sha1", "a").Set("md5", "b").Set("size", 10)
	if _, err := db.InsertEvents(ctx, []*event.Event{capture}); err != nil {
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
		Set("c2", []any{map[string]any{"host": "cnc.example.net", "port": 23.0, "source": "sandbox", "observed": "config-decoded+contacted", "confidence": 90, "publish": true},
			map[string]any{"host": "", "port": 1.0}}).
		Set("urls", []any{map[string]any{"url": "http://198.51.100.3/bins/mirai.arm", "observed": "sandbox-fetch", "confidence": 85, "publish": true}})
	if _, err := db.InsertEvents(ctx, []*event.Event{rep}); err != nil {
		t.Fatal(err)
	}
	r, err = db.Report(ctx, sha)
	if err != nil || r.Status != "done" || r.Family != "mirai" || !strings.Contains(string(r.Report), `"arch":"arm"`) || !r.Updated.Equal(t0.Add(time.Minute)) {
		t.Fatalf("report: %+v %v", r, err)
	}
	// An older report arriving late does not replace a newer one.
	old := event.New("sandbox", "analysis.report")
	old.Time, old.Sensor = t0.Add(30*time.Second), "w2"
	old.Set("sha256", sha).Set("status", "failed").Set("error", "timeout")
	if _, err := db.InsertEvents(ctx, []*event.Event{old}); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.Report(ctx, sha); r.Status != "done" {
		t.Fatalf("older report replaced a newer one: %+v", r)
	}
	s, _ := db.Sample(ctx, sha)
	if s.Family != "mirai" || s.Arch != "arm" || s.FileType != "elf" {
		t.Fatalf("sample not updated from report: %+v", s)
	}
	c2s, err := db.C2s(ctx, store.ListQuery{})
	if err != nil || len(c2s) != 1 || c2s[0].Host != "cnc.example.net" || c2s[0].Port != 23 || c2s[0].Family != "mirai" || c2s[0].Count != 1 ||
		c2s[0].Observed != "config-decoded+contacted" || c2s[0].Confidence != 90 || c2s[0].Review != store.ReviewPublished || c2s[0].Samples != 1 {
		t.Fatalf("c2s: %+v %v", c2s, err)
	}
	urls, _ := db.URLs(ctx, store.ListQuery{})
	if len(urls) != 1 || urls[0].URL != "http://198.51.100.3/bins/mirai.arm" || urls[0].Status != "unknown" || urls[0].Observed != "sandbox-fetch" {
		t.Fatalf("urls from report: %+v", urls)
	}
	if _, err := db.Report(ctx, strings.Repeat("0", 64)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing report: %v", err)
	}
}
