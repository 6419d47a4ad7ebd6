package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/store"
)

// callers makes one API key per scope and an admin session, and returns
// the request headers of each caller of the matrix.
func callers(t *testing.T, db store.Store) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]map[string]string{"anonymous": nil, "unknown-key": {"Authorization": "Bearer ks_nosuchkey"}}
	for _, sc := range Scopes {
		var prefixes []netip.Prefix
		if sc == ScopeCheckAny {
			prefixes = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		}
		secret, k, err := NewAPIKey(sc, []string{sc}, prefixes, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		out[sc] = map[string]string{"Authorization": "bearer " + secret} // the scheme is case-insensitive
	}
	h, _ := HashPassword("correct horse battery")
	if err := db.CreateUser(ctx, "admin", h); err != nil {
		t.Fatal(err)
	}
	tok := randomToken(24)
	if err := db.CreateAdminSession(ctx, store.AdminSession{TokenHash: HashSecret(tok), User: "admin", CSRF: "x", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out["admin"] = map[string]string{"Cookie": sessionCookie + "=" + tok}
	return out
}

// mayRead is the policy the matrix expects, written out by hand rather
// than derived from the access package. The admin's session cookie is
// scoped to /admin and opens nothing elsewhere: outside /admin the admin
// row reads as anonymous (adminOutside).
var mayRead = map[string][]access.Kind{
	"anonymous":          {access.Activity},
	"unknown-key":        nil,
	ScopeSamplesDownload: {access.Activity, access.Sample},
	ScopeFeedsRead:       {access.Activity, access.Exposure, access.Victims, access.Bulk},
	ScopeCheckAny:        {access.Activity, access.Lookup},
	"admin":              {access.Activity, access.Exposure, access.Victims, access.Bulk, access.Sample, access.Lookup, access.Operations},
}

func may(caller string, k access.Kind) bool {
	if caller == "admin" {
		caller = "anonymous"
	}
	return mayAt(caller, k)
}

func mayAt(caller string, k access.Kind) bool {
	for _, x := range mayRead[caller] {
		if x == k {
			return true
		}
	}
	return false
}

// TestAccessMatrix asks every data endpoint as every caller: endpoints
// that serve one kind answer 401/403 to callers who may not read it,
// endpoints that mix kinds leave out what the caller may not read.
func TestAccessMatrix(t *testing.T) {
	f := newFixture(t)
	srv, err := New(Options{Store: f.db, CheckPerMinute: -1, Metrics: MetricsAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	who := callers(t, f.db)

	// Markers of each kind in the seeded data.
	const (
		victimMark   = `"att-1"`         // the amplification attack on infectedIP
		exposureMark = "Hikvision"       // the scan result of scannedIP
		activityMark = `"login.success"` // the telnet sessions of infectedIP
		metricsMark  = "go_goroutines"   // a Prometheus metric
		lookupMark   = VerdictLikelyInfected
	)
	gated := []struct {
		path   string
		kind   access.Kind
		ok     int    // status when allowed
		marker string // in the body when allowed
	}{
		{"/api/v1/events?honeypot=scan", access.Exposure, 200, exposureMark},
		{"/api/v1/events?kind=amp.attack.start", access.Victims, 200, victimMark},
		{"/api/v1/events?honeypot=amp&src_ip=" + infectedIP, access.Victims, 200, victimMark},
		{"/api/v1/events?kind=scan.result", access.Exposure, 200, exposureMark},
		{"/api/v1/attacks", access.Victims, 200, infectedIP},
		{"/api/v1/check/" + infectedIP, access.Lookup, 200, lookupMark},
		{"/feeds/report-amp.csv", access.Bulk, 200, infectedIP},
		{"/feeds/samples.csv", access.Bulk, 200, "sha256_hash"},
		{"/api/v1/samples/" + xssSHA + "/download", access.Sample, 503, "storage"}, // no bus here: the check passed
		{"/metrics", access.Operations, 404, "/admin/metrics"},                     // moved under /admin
		{"/api/v1/events?kind=login.success", access.Activity, 200, activityMark},
	}
	for _, g := range gated {
		for name, hdr := range who {
			t.Run(fmt.Sprintf("%s/%s", g.path, name), func(t *testing.T) {
				resp, body := get(t, ts.URL, g.path, hdr)
				want := g.ok
				switch {
				case g.ok == 404:
				case name == "unknown-key":
					want = 401
				case !may(name, g.kind) && (name == "anonymous" || name == "admin"):
					want = 401
				case !may(name, g.kind):
					want = 403
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, want, body)
				}
				if want == g.ok && !strings.Contains(body, g.marker) {
					t.Fatalf("allowed, but %q missing: %.300s", g.marker, body)
				}
				if want != g.ok && (strings.Contains(body, exposureMark) || strings.Contains(body, victimMark)) {
					t.Fatalf("refused, yet protected data in the answer: %.300s", body)
				}
			})
		}
	}
	// The /admin pages: only the admin gets past the login.
	for _, path := range []string{"/admin/metrics", "/admin/hosts"} {
		for name, hdr := range who {
			t.Run(fmt.Sprintf("%s/%s", path, name), func(t *testing.T) {
				resp, body := get(t, ts.URL, path, hdr)
				atLogin := resp.Request.URL.Path == "/admin/login"
				if atLogin == (name == "admin") {
					t.Fatalf("%s ended at %s (%d)", name, resp.Request.URL.Path, resp.StatusCode)
				}
				if name != "admin" && (strings.Contains(body, metricsMark) || strings.Contains(body, scannedIP)) {
					t.Fatalf("protected data for %s: %.200s", name, body)
				}
				if name == "admin" && !strings.Contains(body, metricsMark) && !strings.Contains(body, scannedIP) {
					t.Fatalf("admin got no data: %.200s", body)
				}
			})
		}
	}
	mixed := []string{
		"/api/v1/events",
		"/api/v1/events?src_ip=" + infectedIP,
		"/api/v1/events?src_ip=127.0.0.1",
		"/api/v1/events?limit=1000&order=asc",
		"/api/v1/hosts",
		"/api/v1/sessions/sess-a",
		"/session/sess-a",
	}
	for _, path := range mixed {
		for name, hdr := range who {
			t.Run(fmt.Sprintf("%s/%s", path, name), func(t *testing.T) {
				resp, body := get(t, ts.URL, path, hdr)
				want := 200
				switch {
				case name == "unknown-key":
					want = 401
				case path == "/api/v1/hosts" && name != "anonymous" && name != "admin" && !may(name, access.Exposure):
					want = 403 // a key that lacks the scope is told so, not downgraded
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, want, body)
				}
				if want != 200 {
					return
				}
				if got := strings.Contains(body, victimMark); got && !may(name, access.Victims) {
					t.Errorf("victim data shown to %s", name)
				}
				if got := strings.Contains(body, exposureMark) || strings.Contains(body, scannedIP); got && !may(name, access.Exposure) {
					t.Errorf("scan data shown to %s", name)
				}
				if strings.HasPrefix(path, "/api/v1/events") && path != "/api/v1/events?src_ip=127.0.0.1" {
					if may(name, access.Victims) != strings.Contains(body, victimMark) {
						t.Errorf("%s: victim data present=%v, want %v", name, !may(name, access.Victims), may(name, access.Victims))
					}
				}
			})
		}
	}
}

// TestStreamAccessAndSlots: the live stream leaves out what the viewer may
// not read, and one source holds at most maxStreamPerSource streams.
func TestStreamAccessAndSlots(t *testing.T) {
	f := newFixture(t)
	srv, err := New(Options{Store: f.db, CheckPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	who := callers(t, f.db)
	open := func(hdr map[string]string) (*bufio.Reader, func(), int) {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/stream", nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			return nil, nil, resp.StatusCode
		}
		t.Cleanup(func() { resp.Body.Close() }) // before ts.Close, which waits for streams
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, ": kansoku") {
			t.Fatalf("stream greeting %q, %v", line, err)
		}
		return br, func() { resp.Body.Close() }, 200
	}
	next := func(br *bufio.Reader) string {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "data: ") {
				return line
			}
		}
	}
	anon, closeAnon, _ := open(nil)
	feedsR, closeFeeds, _ := open(who[ScopeFeedsRead])
	amp := `{"honeypot":"amp","kind":"amp.attack.start","src_ip":"192.0.2.77"}`
	scan := `{"honeypot":"scan","kind":"scan.result","dst_ip":"192.0.2.88"}`
	login := `{"honeypot":"telnet","kind":"login.success","src_ip":"192.0.2.99"}`
	for _, ev := range []string{amp, scan, login} {
		srv.live.publish([]byte(ev))
	}
	if got := next(anon); !strings.Contains(got, "login.success") {
		t.Fatalf("anonymous viewer got %q before the login event", got)
	}
	for _, want := range []string{"amp.attack.start", "scan.result", "login.success"} {
		if got := next(feedsR); !strings.Contains(got, want) {
			t.Fatalf("feeds:read viewer got %q, want %s", got, want)
		}
	}
	closeFeeds()
	local := netip.MustParseAddr("127.0.0.1")
	for deadline := time.Now().Add(10 * time.Second); srv.live.perSource.Held(local) != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams held after one of two closed", srv.live.perSource.Held(local))
		}
	}
	if _, _, code := open(who["unknown-key"]); code != 401 {
		t.Fatalf("unknown key: %d", code)
	}
	// anon holds one slot of 127.0.0.1; three more fit, the next does not.
	var closers []func()
	for range maxStreamPerSource - 1 {
		_, c, code := open(nil)
		if code != 200 {
			t.Fatalf("stream within the per-source cap: %d", code)
		}
		closers = append(closers, c)
	}
	if _, _, code := open(nil); code != 429 {
		t.Fatalf("stream past the per-source cap: %d, want 429", code)
	}
	closeAnon()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, c, code := open(nil); code == 200 {
			c()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed stream's slot never came back")
		}
	}
	for _, c := range closers {
		c()
	}
}
