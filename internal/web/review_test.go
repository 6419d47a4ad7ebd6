package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// TestReviewQueue: an uncorroborated sandbox URL is in no public list or
// feed, only in the admin's review queue; once the admin publishes it, it
// is in the feeds.
func TestReviewQueue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rep := event.New("sandbox", "analysis.report")
	rep.Time = time.Now().UTC()
	rep.Set("sha256", strings.Repeat("e", 64)).Set("urls", []any{map[string]any{"url": "http://127.0.0.77/poison", "observed": "sandbox-fetch", "confidence": 50, "publish": false}})
	if _, err := f.db.InsertEvents(ctx, []*event.Event{rep}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/urls", "/feeds/urlhaus.csv", "/feeds/threatfox.csv", "/feeds/stix.json"} {
		if _, body := get(t, f.ts.URL, p, nil); strings.Contains(body, "127.0.0.77") {
			t.Errorf("%s lists an unreviewed sandbox URL", p)
		}
	}
	h, _ := HashPassword("correct horse battery")
	if err := f.db.CreateUser(ctx, "admin", h); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, f.ts.URL, "/admin/login", nil)
	lc, m := cookie(resp, loginCSRFCookie), csrfRE.FindStringSubmatch(body)
	resp, _ = post(t, f.ts.URL+"/admin/login", url.Values{"csrf": {m[1]}, "user": {"admin"}, "password": {"correct horse battery"}}, lc)
	sc := cookie(resp, sessionCookie)
	if sc == nil {
		t.Fatal("no admin session")
	}
	if resp, _ := get(t, f.ts.URL, "/admin/indicators", nil); resp.Request.URL.Path != "/admin/login" {
		t.Fatalf("anonymous review queue: %s", resp.Request.URL)
	}
	req, _ := http.NewRequest("GET", f.ts.URL+"/admin/indicators?kind=url", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
	r2, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		URLs []store.URL `json:"urls"`
		CSRF string      `json:"csrf"`
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if err := json.Unmarshal(b, &q); err != nil || len(q.URLs) != 1 || q.URLs[0].URL != "http://127.0.0.77/poison" || q.URLs[0].Observed != "sandbox-fetch" {
		t.Fatalf("review queue %d: %s", r2.StatusCode, b)
	}
	form := url.Values{"kind": {"url"}, "value": {"http://127.0.0.77/poison"}, "state": {"published"}}
	if resp, _ := post(t, f.ts.URL+"/admin/indicators/review", form, sc); resp.StatusCode != 403 {
		t.Fatalf("review without CSRF: %d", resp.StatusCode)
	}
	form.Set("csrf", q.CSRF)
	if resp, body := post(t, f.ts.URL+"/admin/indicators/review", form, sc); resp.StatusCode != 200 {
		t.Fatalf("review: %d %s", resp.StatusCode, body)
	}
	if _, body := get(t, f.ts.URL, "/feeds/urlhaus.csv", nil); !strings.Contains(body, "http://127.0.0.77/poison") || !strings.Contains(body, "sandbox-fetch") {
		t.Errorf("published URL not in the feed with how it was observed:\n%s", body)
	}
}
