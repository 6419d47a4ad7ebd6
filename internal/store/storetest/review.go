package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// testIndicatorReview: only corroborated indicators reach the public lists
// (the API and feeds); the rest wait in the review queue until an admin
// decides or enough independent samples name them; a bot's session fetch
// publishes a URL; well-known services never are.
func testIndicatorReview(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	report := func(i int, sha string, c2 []any, urls []any) *event.Event {
		e := event.New("sandbox", "analysis.report")
		e.Time, e.Sensor = t0.Add(time.Duration(i)*time.Minute), "w1"
		return e.Set("sha256", sha).Set("family", "mirai").Set("c2", c2).Set("urls", urls)
	}
	weak := []any{map[string]any{"host": "198.51.100.60", "port": 6667.0, "source": "sandbox", "observed": "sandbox-c2-traffic", "confidence": 40, "publish": false}}
	fetched := []any{
		map[string]any{"url": "http://198.51.100.61/x.sh", "observed": "sandbox-fetch", "confidence": 50, "publish": false},
		"http://198.51.100.62/strings-only",
	}
	sha := func(c string) string { return strings.Repeat(c, 64) }
	// the same sample twice counts once
	if _, err := db.InsertEvents(ctx, []*event.Event{report(0, sha("a"), weak, fetched), report(1, sha("a"), weak, nil)}); err != nil {
		t.Fatal(err)
	}
	list := func(review string) (c2s []string, urls []string) {
		t.Helper()
		cs, err := db.C2s(ctx, store.ListQuery{Review: review})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			c2s = append(c2s, c.Host)
		}
		us, err := db.URLs(ctx, store.ListQuery{Review: review})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			urls = append(urls, u.URL)
		}
		return c2s, urls
	}
	if c, u := list(""); len(c) != 0 || len(u) != 0 {
		t.Fatalf("uncorroborated indicators published: %v %v", c, u)
	}
	if c, u := list(store.ReviewPending); strings.Join(c, " ") != "198.51.100.60" || strings.Join(u, " ") != "http://198.51.100.61/x.sh http://198.51.100.62/strings-only" {
		t.Fatalf("review queue: %v %v", c, u)
	}
	pending, _ := db.C2s(ctx, store.ListQuery{Review: store.ReviewPending})
	if p := pending[0]; p.Samples != 1 || p.Observed != "sandbox-c2-traffic" || p.Confidence != 40 {
		t.Errorf("pending c2: %+v", p)
	}
	// two more independent samples corroborate the C2
	if _, err := db.InsertEvents(ctx, []*event.Event{report(2, sha("b"), weak, nil), report(3, sha("c"), weak, nil)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := list(""); strings.Join(c, " ") != "198.51.100.60" {
		t.Fatalf("c2 named by %d samples not published: %v", store.CorroboratingSamples, c)
	}
	// a bot fetched the URL in a session: observed, published
	dl := Event("download.ok", "S9", t0.Add(time.Hour), "127.0.0.2").SetText("url", "http://198.51.100.61/x.sh").Set("sha256", sha("d"))
	wk := Event("download.ok", "S9", t0.Add(time.Hour), "127.0.0.2").SetText("url", "http://www.google.com/")
	if _, err := db.InsertEvents(ctx, []*event.Event{dl, wk}); err != nil {
		t.Fatal(err)
	}
	if _, u := list(""); strings.Join(u, " ") != "http://198.51.100.61/x.sh" {
		t.Fatalf("published urls after the session fetch: %v", u)
	}
	if _, u := list(store.ReviewAllowlisted); strings.Join(u, " ") != "http://www.google.com/" {
		t.Fatalf("allowlisted urls: %v", u)
	}
	if u, err := db.URL(ctx, "http://198.51.100.61/x.sh"); err != nil || u.Observed != "session-fetch" || u.Review != store.ReviewPublished {
		t.Fatalf("url: %+v %v", u, err)
	}
	// an admin decides
	if err := db.ReviewIndicator(ctx, "url", "http://198.51.100.62/strings-only", 0, store.ReviewRejected); err != nil {
		t.Fatal(err)
	}
	if err := db.ReviewIndicator(ctx, "c2", "198.51.100.60", 6667, store.ReviewRejected); err != nil {
		t.Fatal(err)
	}
	if c, u := list(store.ReviewRejected); strings.Join(c, " ") != "198.51.100.60" || strings.Join(u, " ") != "http://198.51.100.62/strings-only" {
		t.Fatalf("rejected: %v %v", c, u)
	}
	// a rejected indicator stays rejected when named again
	if _, err := db.InsertEvents(ctx, []*event.Event{report(4, sha("e"), []any{map[string]any{"host": "198.51.100.60", "port": 6667.0, "publish": true}}, nil)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := list(""); len(c) != 0 {
		t.Fatalf("rejected c2 published again: %v", c)
	}
	if err := db.ReviewIndicator(ctx, "c2", "198.51.100.60", 1, store.ReviewPublished); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("review of an unknown c2: %v", err)
	}
	if err := db.ReviewIndicator(ctx, "c2", "198.51.100.60", 6667, "maybe"); err == nil {
		t.Error("bad review state accepted")
	}
}
