package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// Attacker-chosen strings used everywhere a page shows event data.
var xssPayloads = []string{
	`<script>window.__xss=1;document.title="pwned"</script>`,
	`"><img src=x onerror="window.__xss=1;document.title='pwned'">`,
	`javascript:window.__xss=1`,
	`'><svg onload=window.__xss=1>`,
	"</textarea><iframe srcdoc=\"<script>parent.__xss=1</script>\">",
}

const (
	infectedIP     = "127.0.0.66"
	cleanIP        = "127.0.0.77"
	scannedIP      = "127.0.0.88"
	cleanExploitIP = "127.0.0.99"
	xssSHA         = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

type fixture struct {
	srv   *Server
	db    *sqlite.DB
	ts    *httptest.Server
	trust *httptest.Server // same portal, 127.0.0.1 trusted as a proxy
}

func mkEvent(hp, kind, session, src string, at time.Time) *event.Event {
	e := event.New(hp, kind)
	e.Time, e.Sensor, e.Session = at, "sensor-1", session
	e.SrcIP, e.SrcPort = netip.MustParseAddr(src), 40000
	e.DstIP, e.DstPort = netip.MustParseAddr("127.0.0.1"), 23
	return e
}

// seed stores a honeypot session from infectedIP with hostile strings, a
// sample with a persistent report, an amplification attack and a scan.
func seed(t testing.TB, db *sqlite.DB) {
	now := time.Now().UTC().Add(-time.Hour)
	var evs []*event.Event
	for i, p := range xssPayloads {
		sid := "sess-" + string(rune('a'+i))
		c := mkEvent("telnet", "session.connect", sid, infectedIP, now.Add(time.Duration(i)*time.Minute))
		c.Set("src_country", p[:8]).Set("src_asn", 64500+i)
		l := mkEvent("telnet", "login.success", sid, infectedIP, c.Time.Add(time.Second))
		l.SetText("username", p)
		l.SetText("password", p)
		cmd := mkEvent("telnet", "command.input", sid, infectedIP, c.Time.Add(2*time.Second))
		cmd.SetText("input", "wget "+p)
		d := mkEvent("telnet", "download.ok", sid, infectedIP, c.Time.Add(3*time.Second))
		d.SetText("url", "http://127.0.0.5/"+p)
		evs = append(evs, c, l, cmd, d)
	}
	d := mkEvent("telnet", "download.ok", "sess-a", infectedIP, now.Add(10*time.Minute))
	d.SetText("url", xssPayloads[2])
	s := mkEvent("telnet", "sample.captured", "sess-a", infectedIP, now.Add(11*time.Minute))
	s.Set("sha256", xssSHA).Set("md5", strings.Repeat("b", 32)).Set("sha1", strings.Repeat("c", 40)).Set("size", 100)
	s.SetText("url", "http://127.0.0.5/"+xssPayloads[0])
	rep := event.New("sandbox", "analysis.report")
	rep.Time = now.Add(12 * time.Minute)
	rep.Set("sha256", xssSHA).Set("status", "done").Set("family", "mirai<script>window.__xss=1</script>").
		Set("report", map[string]any{"dynamic": map[string]any{"persistence": map[string]any{"verdict": "persistent"}}, "note": xssPayloads[1]}).
		Set("c2", []any{map[string]any{"host": "127.0.0.9", "port": 23, "source": "sandbox", "observed": "config-decoded+contacted", "confidence": 90, "publish": true}})
	a := mkEvent("amp", "amp.attack.start", "", infectedIP, now.Add(13*time.Minute))
	a.Set("protocol", "ntp").Set("port", 123).Set("attack_id", "att-1").Set("src_country", "JP")
	sc := mkEvent("scan", "scan.result", "", "127.0.0.1", now.Add(14*time.Minute))
	sc.DstIP, sc.DstPort = netip.MustParseAddr(scannedIP), 23
	sc.Set("data", map[string]any{"telnet": map[string]any{"status": "success"}}).Set("classification", map[string]any{"vendor": "Hikvision", "product": xssPayloads[3]}).
		Set("findings", []any{"default-credentials"})
	x := mkEvent("http", "tcp.payload", "sess-x", cleanExploitIP, now.Add(15*time.Minute))
	x.DstPort = 80
	x.Set("exploits", []any{map[string]any{"id": "gpon-rce", "name": "GPON router RCE", "cves": []any{"CVE-2018-10561"}}})
	evs = append(evs, d, s, rep, a, sc, x)
	if _, err := db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	seed(t, db)
	mk := func(trusted []netip.Prefix) *Server {
		s, err := New(Options{Store: db, TrustedProxies: trusted, CheckPerMinute: -1, FeedSeed: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f := &fixture{db: db, srv: mk(nil)}
	f.ts = httptest.NewServer(f.srv)
	f.trust = httptest.NewServer(mk([]netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}))
	t.Cleanup(f.ts.Close)
	t.Cleanup(f.trust.Close)
	return f
}

func get(t testing.TB, base, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func checkJSON(t *testing.T, base string, hdr map[string]string) CheckResult {
	t.Helper()
	resp, body := get(t, base, "/api/v1/check", hdr)
	if resp.StatusCode != 200 {
		t.Fatalf("check: %d %s", resp.StatusCode, body)
	}
	var r CheckResult
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheckUsesOnlyTheConnectingAddress(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		base    string
		path    string
		hdr     map[string]string
		wantIP  string
		verdict string
	}{
		{"peer", f.ts.URL, "/api/v1/check", nil, "127.0.0.1", VerdictNothingSeen},
		{"ip parameter ignored", f.ts.URL, "/api/v1/check?ip=" + infectedIP, nil, "127.0.0.1", VerdictNothingSeen},
		{"untrusted forwarding headers ignored", f.ts.URL, "/api/v1/check", map[string]string{"X-Forwarded-For": infectedIP, "X-Real-IP": infectedIP, "Forwarded": "for=" + infectedIP}, "127.0.0.1", VerdictNothingSeen},
		{"trusted proxy", f.trust.URL, "/api/v1/check", map[string]string{"X-Forwarded-For": infectedIP}, infectedIP, VerdictLikelyInfected},
		{"trusted proxy, ip parameter ignored", f.trust.URL, "/api/v1/check?ip=" + infectedIP, map[string]string{"X-Forwarded-For": cleanIP}, cleanIP, VerdictNothingSeen},
		{"exposed", f.trust.URL, "/api/v1/check", map[string]string{"X-Forwarded-For": scannedIP}, scannedIP, VerdictExposed},
		{"exploit attempt", f.trust.URL, "/api/v1/check", map[string]string{"X-Forwarded-For": cleanExploitIP}, cleanExploitIP, VerdictLikelyInfected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, tc.base, tc.path, tc.hdr)
			var r CheckResult
			if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &r) != nil {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			if r.IP != tc.wantIP || r.Verdict != tc.verdict {
				t.Fatalf("ip %s verdict %s, want %s %s", r.IP, r.Verdict, tc.wantIP, tc.verdict)
			}
		})
	}
	if r := checkJSON(t, f.trust.URL, map[string]string{"X-Forwarded-For": scannedIP}); len(r.Exposed) != 1 || !strings.HasPrefix(r.Exposed[0].Detail, "telnet Hikvision") || !strings.Contains(r.Exposed[0].Detail, "default-credentials") {
		t.Fatalf("exposed: %+v", r.Exposed)
	}
	r := checkJSON(t, f.trust.URL, map[string]string{"X-Forwarded-For": infectedIP})
	if len(r.Activity) == 0 || len(r.Attacks) != 1 || r.Notice == "" || r.Since.IsZero() {
		t.Fatalf("findings: %+v", r)
	}
	has := strings.Join(r.Advice, " ")
	for _, a := range []string{"advice.reboot", "advice.passwords", "advice.telnet", "advice.factory_reset", "advice.isp", "advice.amp"} {
		if !strings.Contains(has, a) {
			t.Errorf("advice lacks %s: %v", a, r.Advice)
		}
	}
	if len(r.AdviceText) != len(r.Advice) || !strings.Contains(strings.Join(r.AdviceText, " "), "Telnet") || r.Lang != "en" {
		t.Fatalf("advice text: %v", r.AdviceText)
	}
	if rj := checkJSON(t, f.trust.URL, map[string]string{"X-Forwarded-For": infectedIP, "Accept-Language": "ja"}); rj.Lang != "ja" || !strings.Contains(rj.Notice, "NAT") || !strings.Contains(strings.Join(rj.AdviceText, ""), "再起動") {
		t.Fatalf("ja advice: %v %s", rj.AdviceText, rj.Notice)
	}
	// The page says the same in both languages.
	for lang, want := range map[string]string{"en": "Likely infected", "ja": "感染の可能性が高い"} {
		_, body := get(t, f.trust.URL, "/check?lang="+lang, map[string]string{"X-Forwarded-For": infectedIP})
		if !strings.Contains(body, want) || !strings.Contains(body, infectedIP) {
			t.Errorf("%s page lacks %q", lang, want)
		}
	}
	_, body := get(t, f.ts.URL, "/check?ip="+infectedIP, map[string]string{"Accept-Language": "ja,en;q=0.5", "X-Forwarded-For": infectedIP})
	if !strings.Contains(body, "観測なし") || strings.Contains(body, "感染の可能性が高い") || !strings.Contains(body, "127.0.0.1 から") {
		t.Error("page used a parameter or untrusted header")
	}
}

func TestCheckIsRateLimited(t *testing.T) {
	l := newRateLimiter(3)
	ip := netip.MustParseAddr("127.0.0.5")
	now := time.Now()
	for i := 0; i < 3; i++ {
		if !l.allow(ip, now) {
			t.Fatal("denied within the limit")
		}
	}
	if l.allow(ip, now) {
		t.Fatal("allowed over the limit")
	}
	if !l.allow(netip.MustParseAddr("127.0.0.6"), now) || !l.allow(ip, now.Add(time.Minute)) {
		t.Fatal("limit not per address or not refilled")
	}
	// One IPv6 /64 is one source, and a flood of fresh addresses past the
	// limiter's memory does not give an exhausted source a new budget.
	for i := range 3 {
		l.allow(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}), now)
	}
	if l.allow(netip.MustParseAddr("2001:db8::ff"), now) {
		t.Fatal("a new address in an exhausted /64 was allowed")
	}
	for i := range maxLimited + 10 {
		l.allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
		if i%1000 == 0 && l.allow(netip.MustParseAddr("2001:db8::1"), now) {
			t.Fatalf("exhausted /64 allowed again after %d fresh addresses", i)
		}
	}
}

func TestCheckAnyNeedsScopeAndPrefix(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, k, err := NewAPIKey("csirt", []string{ScopeCheckAny}, []netip.Prefix{netip.MustParsePrefix("127.0.0.64/28")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	other, k2, _ := NewAPIKey("researcher", []string{ScopeFeedsRead}, nil, time.Now())
	f.db.CreateAPIKey(ctx, k2)
	for _, tc := range []struct {
		path, key string
		status    int
	}{
		{"/api/v1/check/" + infectedIP, "", 401},
		{"/api/v1/check/" + infectedIP, "wrong", 401},
		{"/api/v1/check/" + infectedIP, other, 403},
		{"/api/v1/check/127.0.0.100", secret, 403},
		{"/api/v1/check/not-an-ip", secret, 400},
		{"/api/v1/check/" + infectedIP + "?days=0", secret, 400},
		{"/api/v1/check/" + infectedIP, secret, 200},
	} {
		resp, body := get(t, f.ts.URL, tc.path, map[string]string{"Authorization": "Bearer " + tc.key})
		if resp.StatusCode != tc.status {
			t.Errorf("%s key=%q: %d %s", tc.path, tc.key, resp.StatusCode, body)
		}
		if tc.status == 200 && !strings.Contains(body, VerdictLikelyInfected) {
			t.Errorf("verdict: %s", body)
		}
	}
	if err := f.db.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, f.ts.URL, "/api/v1/check/"+infectedIP, map[string]string{"X-API-Key": secret}); resp.StatusCode != 401 {
		t.Errorf("revoked key: %d", resp.StatusCode)
	}
}

func TestAPIBadInput(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{
		"/api/v1/events?limit=0", "/api/v1/events?since=yesterday", "/api/v1/events?bogus=1", "/api/v1/events?src_ip=300.1.1.1",
		"/api/v1/events?cursor=%21%21", "/api/v1/stats?since=x", "/api/v1/stats?x=1",
		"/api/v1/samples?limit=5000", "/api/v1/samples?since=-1", "/api/v1/samples?cursor=zz", "/api/v1/samples?x=1", "/api/v1/samples?limit=1&limit=2",
		"/api/v1/samples/xyz", "/api/v1/samples/" + strings.Repeat("g", 64), "/api/v1/samples/abc/download",
		"/api/v1/urls?limit=-1", "/api/v1/urls?since=2026-13-01T00:00:00Z", "/api/v1/c2s?foo=bar",
		"/api/v1/sessions/%3Cscript%3E", "/api/v1/sessions/a%20b/recording",
		"/api/v1/search", "/api/v1/search?q=", "/api/v1/search?q=nothing", "/api/v1/search?q=1&q=2", "/api/v1/search?x=1",
		"/api/v1/dashboard?x=1", "/feeds/urlhaus.csv?limit=0", "/feeds/threatfox.csv?cursor=abc", "/feeds/misp/manifest.json?cursor=x",
		"/feeds/feodo.csv?since=never", "/api/v1/attacks?victim=nope", "/api/v1/attacks?limit=0", "/api/v1/attacks?x=1",
	} {
		resp, body := get(t, f.ts.URL, path, nil)
		var e map[string]string
		if resp.StatusCode != 400 || json.Unmarshal([]byte(body), &e) != nil || e["error"] == "" || len(e) != 1 {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: content type %s", path, ct)
		}
	}
	for path, status := range map[string]int{"/api/v1/samples/" + strings.Repeat("0", 64): 404, "/api/v1/sessions/none": 404, "/api/v1/nope": 404, "/feeds/nope.csv": 404} {
		if resp, body := get(t, f.ts.URL, path, nil); resp.StatusCode != status || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

func TestAPIEndpoints(t *testing.T) {
	f := newFixture(t)
	var samples struct {
		Samples []store.Sample `json:"samples"`
		Next    string         `json:"next"`
	}
	_, body := get(t, f.ts.URL, "/api/v1/samples?limit=1", nil)
	if json.Unmarshal([]byte(body), &samples) != nil || len(samples.Samples) != 1 || samples.Samples[0].SHA256 != xssSHA || samples.Next == "" {
		t.Fatalf("samples: %s", body)
	}
	_, body = get(t, f.ts.URL, "/api/v1/samples?cursor="+samples.Next, nil)
	if !strings.Contains(body, `"samples":[]`) {
		t.Fatalf("second page: %s", body)
	}
	_, body = get(t, f.ts.URL, "/api/v1/samples/"+xssSHA, nil)
	if !strings.Contains(body, `"status":"done"`) || !strings.Contains(body, `"persistent"`) {
		t.Fatalf("sample: %s", body)
	}
	if resp, _ := get(t, f.ts.URL, "/api/v1/samples/"+xssSHA+"/download", nil); resp.StatusCode != 401 {
		t.Fatalf("download without key: %d", resp.StatusCode)
	}
	_, body = get(t, f.ts.URL, "/api/v1/sessions/sess-a", nil)
	if !strings.Contains(body, `"logged_in":true`) || !strings.Contains(body, `command.input`) {
		t.Fatalf("session: %s", body)
	}
	for q, typ := range map[string]string{infectedIP: `"type":"ip"`, xssSHA: `"type":"hash"`, strings.Repeat("b", 32): `"sha256":"` + xssSHA, "http://127.0.0.5/x": `"type":"url"`} {
		_, body = get(t, f.ts.URL, "/api/v1/search?q="+url.QueryEscape(q), nil)
		if !strings.Contains(body, typ) {
			t.Errorf("search %s: %s", q, body)
		}
	}
	_, body = get(t, f.ts.URL, "/api/v1/urls", nil)
	if !strings.Contains(body, "127.0.0.5") {
		t.Fatalf("urls: %s", body)
	}
	if resp, _ := get(t, f.ts.URL, "/api/v1/attacks?victim="+infectedIP, nil); resp.StatusCode != 401 {
		t.Fatalf("attacks without a key: %d", resp.StatusCode)
	}
	secret, k, _ := NewAPIKey("csirt", []string{ScopeFeedsRead}, nil, time.Now())
	f.db.CreateAPIKey(context.Background(), k)
	_, body = get(t, f.ts.URL, "/api/v1/attacks?victim="+infectedIP, map[string]string{"X-API-Key": secret})
	if !strings.Contains(body, `"protocol":"ntp"`) {
		t.Fatalf("attacks: %s", body)
	}
	// The attack page shows only the visitor's own address.
	if resp, body := get(t, f.trust.URL, "/attacks/"+infectedIP, map[string]string{"X-Forwarded-For": infectedIP}); resp.StatusCode != 200 || !strings.Contains(body, "ntp") {
		t.Fatalf("own attacks page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.ts.URL, "/attacks/"+infectedIP, map[string]string{"X-Forwarded-For": infectedIP}); resp.StatusCode != 403 {
		t.Fatalf("someone else's attacks page: %d", resp.StatusCode)
	}
	_, body = get(t, f.ts.URL, "/api/v1/dashboard", nil)
	var dash store.Dashboard
	var famDays int64
	if err := json.Unmarshal([]byte(body), &dash); err == nil {
		for _, n := range dash.FamiliesPerDay {
			famDays += n
		}
	}
	if len(dash.TopCreds) == 0 || famDays != 1 || len(dash.Families) != 1 {
		t.Fatalf("dashboard: %s", body)
	}
}

func TestPagesEscapeAttackerData(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/?lang=ja", "/session/sess-a", "/session/sess-b", "/sample/" + xssSHA, "/search?q=" + infectedIP,
		"/url?u=" + url.QueryEscape("http://127.0.0.5/"+xssPayloads[1]), "/feeds/", "/live", "/admin/login", "/attacks/127.0.0.1"} {
		resp, body := get(t, f.ts.URL, path, nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
			continue
		}
		for _, bad := range []string{"<script>window", "<img src=x", "<svg onload", "<iframe", `href="javascript:`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: unescaped %q", path, bad)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	_, body := get(t, f.ts.URL, "/", nil)
	if strings.Count(body, "<svg") < 6 || !strings.Contains(body, "<polyline") || !strings.Contains(body, `class="bar"`) {
		t.Error("dashboard lacks its charts")
	}
}

func TestLanguageSelection(t *testing.T) {
	for _, tc := range []struct{ h, want string }{
		{"", "en"}, {"ja", "ja"}, {"ja-JP,ja;q=0.9,en;q=0.8", "ja"}, {"en-US,ja;q=0.5", "en"}, {"fr,ja;q=0.3", "ja"}, {"ja;q=bogus,en;q=0.1", "en"},
	} {
		if got := acceptLanguage(tc.h); got != tc.want {
			t.Errorf("%q: %s want %s", tc.h, got, tc.want)
		}
	}
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for k := range c["en"] {
		if _, ok := c["ja"][k]; !ok {
			t.Errorf("ja lacks %s", k)
		}
	}
	for k := range c["ja"] {
		if _, ok := c["en"][k]; !ok {
			t.Errorf("en lacks %s", k)
		}
	}
}
