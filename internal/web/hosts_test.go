package web

import (
	"context"
	"encoding/json"
	"html"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// hostileLabel carries bytes that are not UTF-8 next to a quote.
const hostileLabel = "Gate \xff\xfe 7 \"quoted\" 'single'"

// hostileTemplate is a template id a device's page could make: markup
// that must stay text in the templates table and the link to its members.
var hostileTemplate = "tpl-x" + xssPayloads[3]

// seedHosts stores scan.result events the way the scanner publishes them;
// the hosts table is derived from them by the store.
func seedHosts(t testing.TB, db *sqlite.DB) {
	t.Helper()
	now := time.Now().UTC()
	mk := func(ip string, port uint16, ago time.Duration, product, class, template string, findings, labels []any) *event.Event {
		e := event.New("scan", "scan.result")
		e.Time, e.Sensor, e.Transport = now.Add(-ago), "scanner", "tcp"
		e.DstIP, e.DstPort = netip.MustParseAddr(ip), port
		e.Set("data", map[string]any{"http": map[string]any{"status": "success"}})
		e.Set("classification", map[string]any{"vendor": "Acme", "product": product, "device_type": "data-logger", "class": class})
		e.Set("findings", findings).Set("labels", labels).Set("template", template)
		return e
	}
	evs := []*event.Event{
		mk("127.0.2.1", 80, 5*time.Minute, "WL-100 logger", "critical", "tpl-wl", []any{"no-authentication", "login-page-exposed"}, []any{"North Reservoir Gate 3"}),
		mk("127.0.2.2", 80, 3*time.Minute, "WL-100 logger", "critical", "tpl-wl", []any{"login-page-exposed"}, []any{xssPayloads[0]}),
		mk("127.0.3.1", 23, 2*time.Minute, "BusyBox", "", "", []any{"telnet-open"}, nil),
		mk("127.0.3.2", 80, time.Minute, xssPayloads[1]+"\xff\xfe", "", hostileTemplate, []any{"login-page-exposed"}, []any{xssPayloads[1], hostileLabel, xssPayloads[4]}),
		mk("127.0.4.1", 123, 48*time.Hour, "ntpd", "", "", []any{"open-reflector:ntp"}, nil),
		mk("::1", 8080, 4*time.Minute, "Cam-9", "", "", []any{"login-page-exposed"}, []any{"Lobby"}),
	}
	if _, err := db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// hostsFixture is the portal with hosts, a feeds:read key, a key without
// that scope and a logged-in admin's cookie.
type hostsFixture struct {
	*fixture
	key, otherKey, admin string
}

func newHostsFixture(t *testing.T) hostsFixture {
	t.Helper()
	f := newFixture(t)
	seedHosts(t, f.db)
	ctx := context.Background()
	key, k, _ := NewAPIKey("csirt", []string{ScopeFeedsRead}, nil, time.Now())
	other, k2, _ := NewAPIKey("downloads", []string{ScopeSamplesDownload}, nil, time.Now())
	tok := "admin-session-token"
	for _, err := range []error{f.db.CreateAPIKey(ctx, k), f.db.CreateAPIKey(ctx, k2),
		f.db.CreateAdminSession(ctx, store.AdminSession{TokenHash: HashSecret(tok), User: "admin", CSRF: "c", Expires: time.Now().Add(time.Hour)})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return hostsFixture{f, key, other, sessionCookie + "=" + tok}
}

func (f hostsFixture) as(who string) map[string]string {
	switch who {
	case "key":
		return map[string]string{"Authorization": "Bearer " + f.key}
	case "other-key":
		return map[string]string{"X-API-Key": f.otherKey}
	case "bad-key":
		return map[string]string{"X-API-Key": "ks_not-a-key"}
	case "admin":
		return map[string]string{"Cookie": f.admin}
	}
	return nil
}

type hostsAnswer struct {
	Error     string               `json:"error"`
	Detail    string               `json:"detail"`
	Hosts     []store.Host         `json:"hosts"`
	Next      string               `json:"next"`
	Summary   *store.HostSummary   `json:"summary"`
	Templates []store.HostTemplate `json:"templates"`
}

func apiHosts(t *testing.T, f hostsFixture, query, who string) (int, hostsAnswer, string) {
	t.Helper()
	resp, body := get(t, f.ts.URL, "/api/v1/hosts"+query, f.as(who))
	var a hostsAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatalf("%s: not JSON: %s", query, body)
	}
	return resp.StatusCode, a, body
}

func services(hs []store.Host) string {
	var s []string
	for _, h := range hs {
		s = append(s, netip.AddrPortFrom(h.IP, h.Port).String())
	}
	return strings.Join(s, " ")
}

func TestHostsAPI(t *testing.T) {
	f := newHostsFixture(t)
	all := "127.0.2.2:80 127.0.2.1:80 127.0.3.2:80 127.0.3.1:23 [::1]:8080 127.0.0.88:23 127.0.4.1:123"
	for _, tc := range []struct {
		name, query, who string
		status           int
		detail           string // "hosts" or "aggregate" on 200
		hosts            string // for detail "hosts"
	}{
		{"anonymous gets aggregates", "", "", 200, "aggregate", ""},
		{"anonymous since", "?since=24h", "", 200, "aggregate", ""},
		{"anonymous filter needs a key", "?class=critical", "", 401, "", ""},
		{"anonymous prefix needs a key", "?prefix=127.0.2.0/24", "", 401, "", ""},
		{"anonymous template needs a key", "?template=tpl-wl", "", 401, "", ""},
		{"the admin cookie does not open the template filter", "?template=tpl-wl", "admin", 401, "", ""},
		{"template: the cluster's members", "?template=tpl-wl", "key", 200, "hosts", "127.0.2.2:80 127.0.2.1:80"},
		{"template is exact", "?template=tpl", "key", 200, "hosts", ""},
		{"template and finding", "?template=" + url.QueryEscape(hostileTemplate) + "&finding=login-page-exposed", "key", 200, "hosts", "127.0.3.2:80"},
		{"template, one per page", "?template=tpl-wl&limit=1", "key", 200, "hosts", "127.0.2.2:80"},
		{"unknown key", "", "bad-key", 401, "", ""},
		{"key without feeds:read", "", "other-key", 403, "", ""},
		{"key: all, critical first", "", "key", 200, "hosts", all},
		{"the admin cookie does not open the API", "", "admin", 200, "aggregate", ""},
		{"class", "?class=critical", "key", 200, "hosts", "127.0.2.2:80 127.0.2.1:80"},
		{"finding", "?finding=open-reflector:ntp", "key", 200, "hosts", "127.0.4.1:123"},
		{"product", "?product=BusyBox", "key", 200, "hosts", "127.0.3.1:23"},
		{"prefix", "?prefix=127.0.2.0/24", "key", 200, "hosts", "127.0.2.2:80 127.0.2.1:80"},
		{"prefix is a bare address", "?prefix=127.0.3.1", "key", 200, "hosts", "127.0.3.1:23"},
		{"IPv6 prefix", "?prefix=" + url.QueryEscape("::/0"), "key", 200, "hosts", "[::1]:8080"},
		{"ip", "?ip=127.0.3.2", "key", 200, "hosts", "127.0.3.2:80"},
		{"since duration", "?since=24h&finding=login-page-exposed", "key", 200, "hosts", "127.0.2.2:80 127.0.2.1:80 127.0.3.2:80 [::1]:8080"},
		{"since days", "?since=1d&product=ntpd", "key", 200, "hosts", ""},
		{"since RFC 3339", "?since=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + "&product=ntpd", "key", 200, "hosts", ""},
		{"limit", "?limit=3", "key", 200, "hosts", "127.0.2.2:80 127.0.2.1:80 127.0.3.2:80"},
		{"nothing matches", "?class=none", "key", 200, "hosts", ""},
		{"limit 0", "?limit=0", "key", 400, "", ""},
		{"limit over 1000", "?limit=1001", "key", 400, "", ""},
		{"limit not a number", "?limit=ten", "", 400, "", ""},
		{"bad prefix", "?prefix=127.0.0.0/99", "key", 400, "", ""},
		{"bad ip", "?ip=localhost", "key", 400, "", ""},
		{"prefix and ip", "?prefix=127.0.0.0/8&ip=127.0.0.1", "key", 400, "", ""},
		{"bad since", "?since=yesterday", "", 400, "", ""},
		{"negative since", "?since=-1h", "key", 400, "", ""},
		{"unknown parameter", "?victim=127.0.0.1", "key", 400, "", ""},
		{"repeated parameter", "?class=a&class=b", "key", 400, "", ""},
		{"bad cursor", "?cursor=bm90LWEtY3Vyc29y", "key", 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, a, body := apiHosts(t, f, tc.query, tc.who)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if status != 200 {
				if a.Error == "" {
					t.Fatalf("no error message: %s", body)
				}
				return
			}
			if a.Detail != tc.detail {
				t.Fatalf("detail %q, want %q", a.Detail, tc.detail)
			}
			if tc.detail == "aggregate" {
				if a.Hosts != nil || strings.Contains(body, "127.0.") || strings.Contains(body, "North Reservoir") || a.Summary == nil {
					t.Fatalf("aggregate shows hosts or labels: %s", body)
				}
				return
			}
			if got := services(a.Hosts); got != tc.hosts {
				t.Fatalf("hosts %s\nwant  %s", got, tc.hosts)
			}
		})
	}

	// The aggregate counts addresses by class, finding, product and template.
	_, a, _ := apiHosts(t, f, "", "")
	count := func(cs []store.Count, key string) int64 {
		for _, c := range cs {
			if c.Key == key {
				return c.N
			}
		}
		return 0
	}
	if a.Summary.Total != 7 || count(a.Summary.ByClass, "critical") != 2 || count(a.Summary.ByFinding, "login-page-exposed") != 4 ||
		count(a.Summary.ByProduct, "WL-100 logger") != 2 || len(a.Templates) != 2 || a.Templates[0].Template != "tpl-wl" || a.Templates[0].Members != 2 {
		t.Fatalf("aggregate: %+v %+v", a.Summary, a.Templates)
	}
	if _, a, _ := apiHosts(t, f, "?since=24h", ""); a.Summary.Total != 6 {
		t.Fatalf("since: total %d", a.Summary.Total)
	}

	// Pages of two walk through every host once, in the same order.
	var got []store.Host
	q := "?limit=2"
	for i := 0; i < 10; i++ {
		_, a, body := apiHosts(t, f, q, "key")
		got = append(got, a.Hosts...)
		if a.Next == "" {
			break
		}
		if len(a.Hosts) != 2 {
			t.Fatalf("short page with a next cursor: %s", body)
		}
		q = "?limit=2&cursor=" + url.QueryEscape(a.Next)
	}
	if services(got) != all {
		t.Fatalf("paged: %s", services(got))
	}
}

func TestHostsPages(t *testing.T) {
	f := newHostsFixture(t)
	for _, tc := range []struct {
		name, path, who string
		status          int
		want, not       []string
	}{
		{"anonymous: counts and notice only", "/hosts?lang=en", "", 200,
			[]string{"Aggregate counts only", "WL-100 logger", "login-page-exposed", "tpl-wl"},
			[]string{"127.0.2.1", "North Reservoir", "id=\"hosts\"", "host-filter"}},
		{"anonymous filters show nothing more", "/hosts?class=critical&prefix=127.0.2.0/24", "", 200,
			[]string{"Aggregate counts only"}, []string{"127.0.2.1", "North Reservoir"}},
		{"anonymous, Japanese", "/hosts?lang=ja", "", 200, []string{"露出・重要ホスト", "集計のみ"}, []string{"127.0.2.1"}},
		{"key holder: rows and labels", "/hosts?lang=en", "key", 200,
			[]string{"127.0.2.1", "North Reservoir Gate 3", "host-filter", "no-authentication"}, []string{"Aggregate counts only"}},
		{"key holder: links stay public", "/hosts", "key", 200, []string{`href="/hosts/127.0.2.1"`, `action="/hosts"`}, []string{"/admin/hosts/"}},
		{"admin: rows and labels", "/admin/hosts", "admin", 200,
			[]string{"127.0.2.1", "North Reservoir Gate 3", `href="/admin/hosts/127.0.2.1"`, `action="/admin/hosts"`}, []string{"Aggregate counts only"}},
		{"admin cookie outside /admin: counts only", "/hosts", "admin", 200, []string{"Aggregate counts only"}, []string{"127.0.2.1"}},
		{"admin page without a session", "/admin/hosts", "", 200, []string{`action="/admin/login"`}, []string{"127.0.2.1"}},
		{"admin: filtered", "/admin/hosts?class=critical", "admin", 200, []string{"127.0.2.1", "127.0.2.2"}, []string{"127.0.3.1", `<span class="tag">telnet-open</span>`}},
		{"admin: next page link", "/admin/hosts?limit=2", "admin", 200, []string{`rel="next"`, `href="/admin/hosts?cursor=`}, []string{"127.0.3.1"}},
		{"admin: bad prefix", "/admin/hosts?prefix=nope", "admin", 400, []string{"bad prefix"}, nil},
		{"anonymous: templates without links", "/hosts", "", 200, []string{"tpl-wl"}, []string{"?template=", `name="template"`}},
		{"key holder: each template links to its members", "/hosts", "key", 200, []string{`<a href="/hosts?template=tpl-wl"`, `name="template"`}, nil},
		{"admin: template links stay under /admin", "/admin/hosts", "admin", 200, []string{`<a href="/admin/hosts?template=tpl-wl"`}, []string{`href="/hosts?template=`}},
		{"admin: one template's members", "/admin/hosts?template=tpl-wl", "admin", 200,
			[]string{`id="hosts"`, "127.0.2.1", "127.0.2.2", `value="tpl-wl"`}, []string{"127.0.3.2", "127.0.3.1", "[::1]"}},
		{"anonymous template filter shows nothing more", "/hosts?template=tpl-wl", "", 200, []string{"Aggregate counts only"}, []string{"127.0.2.1", "North Reservoir"}},
		{"key without scope", "/hosts", "other-key", 403, nil, nil},
		{"one address, anonymous", "/hosts/127.0.2.1", "", 403, nil, []string{"North Reservoir"}},
		{"one address, admin", "/admin/hosts/127.0.2.1", "admin", 200, []string{"North Reservoir Gate 3", "tpl-wl", "no-authentication"}, nil},
		{"one address, admin cookie outside /admin", "/hosts/127.0.2.1", "admin", 403, nil, []string{"North Reservoir"}},
		{"one address, IPv6", "/hosts/::1", "key", 200, []string{"Lobby", "8080/tcp"}, nil},
		{"one address, unknown", "/admin/hosts/127.9.9.9", "admin", 404, nil, nil},
		{"one address, bad", "/admin/hosts/not-an-ip", "admin", 400, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, f.ts.URL, tc.path, f.as(tc.who))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("shows %q", n)
				}
			}
		})
	}
}

// TestHostsEscapeDeviceStrings stores labels and products a device chose
// (markup, quotes, bytes that are not UTF-8) and checks that pages and
// JSON carry them as text.
func TestHostsEscapeDeviceStrings(t *testing.T) {
	f := newHostsFixture(t)
	for _, path := range []string{"/hosts", "/hosts?lang=ja", "/hosts/127.0.3.2", "/hosts/127.0.2.2", "/hosts?prefix=127.0.3.2",
		"/admin/hosts", "/admin/hosts/127.0.3.2"} {
		for _, who := range []string{"admin", "key", ""} {
			resp, body := get(t, f.ts.URL, path, f.as(who))
			// One address is not shown without a key, nor to the admin
			// cookie outside /admin.
			if resp.StatusCode == 403 && (who == "" || who == "admin" && !strings.HasPrefix(path, "/admin")) {
				continue
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%s as %q: %d", path, who, resp.StatusCode)
			}
			if !utf8.ValidString(body) {
				t.Errorf("%s as %q: not valid UTF-8", path, who)
			}
			for _, p := range xssPayloads {
				if strings.Contains(body, p) {
					t.Errorf("%s as %q: unescaped %q", path, who, p)
				}
			}
			for _, raw := range []string{"<script>window", "<img src=x", "<svg onload", "<iframe"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s as %q: raw markup %q", path, who, raw)
				}
			}
		}
	}
	_, body := get(t, f.ts.URL, "/admin/hosts/127.0.3.2", f.as("admin"))
	for _, w := range []string{"&lt;script&gt;", "Gate \ufffd\ufffd 7 &#34;quoted&#34; &#39;single&#39;", `\xff\xfe`} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks the escaped form %q", w)
		}
	}
	_, body = get(t, f.ts.URL, "/hosts/127.0.2.2", f.as("key"))
	if !strings.Contains(body, "&lt;script&gt;window.__xss=1;document.title=&#34;pwned&#34;&lt;/script&gt;") {
		t.Error("script label not shown as text")
	}

	// The link to a hostile template's members is one URL that lists them.
	_, body = get(t, f.ts.URL, "/hosts", f.as("key"))
	m := regexp.MustCompile(`<a href="(/hosts\?template=[^"]*)"[^>]*>tpl-x`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no link to the hostile template's members")
	}
	resp, members := get(t, f.ts.URL, html.UnescapeString(m[1]), f.as("key"))
	if resp.StatusCode != 200 || !strings.Contains(members, `href="/hosts/127.0.3.2"`) || strings.Contains(members, `href="/hosts/127.0.2.1"`) {
		t.Errorf("%s: %d, not the cluster's member: %.300s", m[1], resp.StatusCode, members)
	}

	status, a, body := apiHosts(t, f, "?ip=127.0.3.2", "key")
	if status != 200 || len(a.Hosts) != 1 {
		t.Fatalf("api: %d %s", status, body)
	}
	if !utf8.ValidString(body) || strings.Contains(body, "<") || strings.Contains(body, ">") {
		t.Errorf("JSON carries raw markup or invalid UTF-8: %s", body)
	}
	h := a.Hosts[0]
	if strings.Join(h.Labels, "|") != xssPayloads[1]+"|Gate \ufffd\ufffd 7 \"quoted\" 'single'|"+xssPayloads[4] || h.Product != xssPayloads[1]+"\ufffd\ufffd" {
		t.Errorf("labels or product changed beyond escaping: %q %q", h.Labels, h.Product)
	}
}
