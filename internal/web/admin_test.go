package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/alert"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func post(t *testing.T, u string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestAdminLoginCSRFAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	disp, err := alert.NewDispatcher(alert.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Store: f.db, Alerts: disp})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateUser(ctx, "admin", h); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, f.ts.URL, "/admin", nil); resp.Request.URL.Path != "/admin/login" {
		t.Fatalf("anonymous /admin not sent to login: %s", resp.Request.URL)
	}
	resp, body := get(t, f.ts.URL, "/admin/login", nil)
	lc := cookie(resp, loginCSRFCookie)
	m := csrfRE.FindStringSubmatch(body)
	if lc == nil || m == nil || m[1] != lc.Value || !lc.Secure || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login form token/cookie: %+v %v", lc, m)
	}
	good := url.Values{"csrf": {m[1]}, "user": {"admin"}, "password": {"correct horse battery"}}
	if resp, _ := post(t, f.ts.URL+"/admin/login", good); resp.StatusCode != 403 {
		t.Fatalf("login without the CSRF cookie: %d", resp.StatusCode)
	}
	bad := url.Values{"csrf": {m[1]}, "user": {"admin"}, "password": {"wrong password!!"}}
	if resp, _ := post(t, f.ts.URL+"/admin/login", bad, lc); resp.Header.Get("Location") != "/admin/login?bad=1" {
		t.Fatalf("wrong password: %v", resp.Header)
	}
	resp, _ = post(t, f.ts.URL+"/admin/login", good, lc)
	sc := cookie(resp, sessionCookie)
	if resp.StatusCode != 303 || sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: %d %+v", resp.StatusCode, sc)
	}
	req, _ := http.NewRequest("GET", f.ts.URL+"/admin", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
	r2, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	m = csrfRE.FindStringSubmatch(string(b))
	if r2.StatusCode != 200 || m == nil {
		t.Fatalf("admin page: %d", r2.StatusCode)
	}
	form := url.Values{"name": {"researcher"}, "scope": {ScopeSamplesDownload, ScopeFeedsRead}}
	if resp, _ := post(t, f.ts.URL+"/admin/apikeys", form, sc); resp.StatusCode != 403 {
		t.Fatalf("POST without CSRF token: %d", resp.StatusCode)
	}
	form.Set("csrf", "forged")
	if resp, _ := post(t, f.ts.URL+"/admin/apikeys", form, sc); resp.StatusCode != 403 {
		t.Fatalf("POST with a forged CSRF token: %d", resp.StatusCode)
	}
	form.Set("csrf", m[1])
	resp, body = post(t, f.ts.URL+"/admin/apikeys", form, sc)
	key := regexp.MustCompile(`id="newkey">(ks_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || key == nil {
		t.Fatalf("create key: %d", resp.StatusCode)
	}
	if resp, body := get(t, f.ts.URL, "/feeds/report-bruteforce.csv", map[string]string{"Authorization": "Bearer " + key[1]}); resp.StatusCode != 200 || !strings.HasPrefix(body, "timestamp,protocol,src_ip") {
		t.Fatalf("report with the new key: %d %.80s", resp.StatusCode, body)
	}
	sub := url.Values{"csrf": {m[1]}, "id": {"isp-1"}, "name": {"ISP"}, "prefixes": {"192.0.2.0/24"}, "kind": {"infected-host"}, "mail": {"noc@example.invalid"}, "verified": {"on"}}
	if resp, body := post(t, f.ts.URL+"/admin/subscriptions", sub, sc); resp.StatusCode != 303 {
		t.Fatalf("subscription: %d %s", resp.StatusCode, body)
	}
	if subs := disp.Subscriptions(); len(subs) != 1 || subs[0].ID != "isp-1" || !subs[0].Verified || subs[0].Prefixes[0].String() != "192.0.2.0/24" {
		t.Fatalf("dispatcher subscriptions: %+v", subs)
	}
	// A restarted portal hands the stored subscriptions to its dispatcher.
	disp2, _ := alert.NewDispatcher(alert.DefaultConfig(), nil)
	if _, err := New(Options{Store: f.db, Alerts: disp2}); err != nil || len(disp2.Subscriptions()) != 1 {
		t.Fatalf("reload: %v %v", err, disp2.Subscriptions())
	}
	log, err := f.db.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "subscription.put,apikey.create,login,login.failed") {
		t.Fatalf("audit log: %s", got)
	}
	if resp, _ := post(t, f.ts.URL+"/admin/logout", url.Values{"csrf": {m[1]}}, sc); resp.StatusCode != 303 {
		t.Fatal("logout")
	}
	req, _ = http.NewRequest("GET", f.ts.URL+"/admin", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sc.Value})
	if r3, _ := noRedirect.Do(req); r3.StatusCode != 303 {
		t.Fatal("session survived logout")
	}
}
