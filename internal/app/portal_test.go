package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/web"
)

// TestServeCheckRateFromConfig: portal.check_per_minute reaches the portal.
func TestServeCheckRateFromConfig(t *testing.T) {
	r := start(t, testConfigPortal(t, "  check_per_minute: 1\n  check_window: 48h\n", ""))
	base := "http://" + r.listeners["http"]
	var res struct {
		WindowDays int `json:"window_days"`
	}
	if code := getJSON(t, base+"/api/v1/check", &res); code != 200 || res.WindowDays != 2 {
		t.Fatalf("first check: %d, window %d days (want 2, from check_window)", code, res.WindowDays)
	}
	var e map[string]any
	if code := getJSON(t, base+"/api/v1/check", &e); code != http.StatusTooManyRequests || e["error"] == nil {
		t.Fatalf("second check in a minute: %d %v, want 429", code, e)
	}
}

// TestServeAdminSubscriptionsReachCollector: in serve, a subscription made
// on the admin page is the collector's: an attack on its prefix is
// delivered to it, and a delivery that keeps failing shows on the admin
// page as a dead letter.
func TestServeAdminSubscriptionsReachCollector(t *testing.T) {
	hookURL, got := webhookReceiver(t)
	cfg := ampConfig(t, "alerts:\n  backoff: 100ms\n  max_attempts: 1\n")
	addUser(t, cfg.DataDir, "admin", "correct horse battery")
	r := start(t, cfg)
	a := adminLogin(t, "http://"+r.listeners["http"], "admin", "correct horse battery")
	for _, sub := range []url.Values{
		{"id": {"isp-web"}, "prefixes": {"127.0.0.0/8"}, "kind": {"amp-victim"}, "webhook": {hookURL}, "secret": {hookSecret}, "verified": {"on"}},
		// Nothing listens on port 1: every delivery fails.
		{"id": {"isp-dead"}, "prefixes": {"127.0.0.0/8"}, "kind": {"amp-victim"}, "webhook": {"http://127.0.0.1:1/"}, "secret": {hookSecret}, "verified": {"on"}},
	} {
		if code, body := a.post("/admin/subscriptions", sub); code != http.StatusSeeOther {
			t.Fatalf("add subscription %s: %d %s", sub.Get("id"), code, body)
		}
	}
	if code, body := a.get("/admin"); code != 200 || !strings.Contains(body, "isp-web") || !strings.Contains(body, "isp-dead") {
		t.Fatalf("admin page: %d, subscriptions not listed", code)
	}
	reflectionAttack(t, r.listeners["amp-dns"], "127.0.9.10")
	if p := awaitAlert(t, got); p.Subscription != "isp-web" || !strings.Contains(p.CSV, "127.0.9.10") {
		t.Fatalf("alert: %+v", p)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := a.get("/admin")
		if regexp.MustCompile(`<td>isp-dead</td><td>webhook</td>`).MatchString(body) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed delivery is not on the admin page")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func addUser(t *testing.T, dataDir, name, password string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := web.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(context.Background(), name, h); err != nil {
		t.Fatal(err)
	}
}

// adminClient is a logged-in admin session, as a browser holds it.
type adminClient struct {
	t       *testing.T
	base    string
	cookies map[string]string
	csrf    string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func adminLogin(t *testing.T, base, user, password string) *adminClient {
	t.Helper()
	a := &adminClient{t: t, base: base, cookies: map[string]string{}}
	code, body := a.get("/admin/login")
	m := csrfRE.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("login form: %d", code)
	}
	a.csrf = m[1]
	if code, _ := a.post("/admin/login", url.Values{"user": {user}, "password": {password}}); code != http.StatusSeeOther || a.cookies["kansoku_admin"] == "" {
		t.Fatalf("login: %d, cookies %v", code, a.cookies)
	}
	code, body = a.get("/admin")
	if m = csrfRE.FindStringSubmatch(body); code != 200 || m == nil {
		t.Fatalf("admin page after login: %d", code)
	}
	a.csrf = m[1]
	return a
}

func (a *adminClient) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", a.base+path, nil)
	return a.do(req)
}

// post sends a form with the page's CSRF token.
func (a *adminClient) post(path string, form url.Values) (int, string) {
	form.Set("csrf", a.csrf)
	req, _ := http.NewRequest("POST", a.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

// do sends the cookies by hand: they are Secure, and the test talks plain
// HTTP on loopback.
func (a *adminClient) do(req *http.Request) (int, string) {
	a.t.Helper()
	for k, v := range a.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		a.cookies[ck.Name] = ck.Value
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
