package store

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func ev(kind string, data map[string]any) *event.Event {
	return &event.Event{ID: "e1", Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Honeypot: "ssh", Kind: kind,
		SrcIP: netip.MustParseAddr("127.0.0.2"), DstIP: netip.MustParseAddr("127.0.0.3"), DstPort: 22, Data: data}
}

func TestURLStatus(t *testing.T) {
	for _, tc := range []struct {
		kind, err, want string
	}{
		{"download.ok", "", "online"},
		{"download.failed", "timeout", "offline"},
		{"download.failed", "", "offline"},
		{"download.failed", "refused-address", "unknown"},
		{"download.failed", "fetcher-disabled", "unknown"},
		{"download.failed", "rate-limited", "unknown"},
	} {
		if got := URLStatus(ev(tc.kind, map[string]any{"error": tc.err})); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.kind, tc.err, got, tc.want)
		}
	}
}

func TestPortalCounts(t *testing.T) {
	long := strings.Repeat("u", 100)
	for _, tc := range []struct {
		name string
		e    *event.Event
		want []string
	}{
		{"connect", ev("session.connect", map[string]any{"src_country": "JP", "src_asn": 64500}),
			[]string{"events:", "port:22/ssh", "honeypot:ssh", "country:JP", "asn:64500"}},
		{"login clips credentials", ev("login.failed", map[string]any{"username": long, "password": "x"}),
			[]string{"events:", "login:", "cred:" + long[:MaxKey] + ":x"}},
		{"attack without country", ev("amp.attack.start", map[string]any{"protocol": "dns"}),
			[]string{"events:", "attacks:", "attack_proto:dns", "attack_country:??"}},
		{"report without family", ev("analysis.report", nil), []string{"events:"}},
		{"sample: the driver decides", ev("sample.captured", map[string]any{"sha256": strings.Repeat("a", 64)}), []string{"events:"}},
	} {
		var got []string
		PortalCounts(tc.e, func(dim, key string) { got = append(got, dim+":"+key) })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestHostResultOf(t *testing.T) {
	e := ev("scan.result", map[string]any{
		"data":           map[string]any{"telnet": map[string]any{"status": "success"}, "http": map[string]any{"status": "success"}, "ftp": map[string]any{"status": "io-timeout"}},
		"classification": map[string]any{"vendor": "V", "product": "P", "device_type": "camera", "class": "critical"},
		"findings":       []any{"no-authentication"},
		"template":       "t1",
	})
	h, ok := HostResultOf(e)
	want := HostResult{Service: "http", Vendor: "V", Product: "P", DeviceType: "camera", Class: "critical", Transport: "tcp", Template: "t1", Findings: []any{"no-authentication"}}
	if !ok || !reflect.DeepEqual(h, want) {
		t.Errorf("got %+v %v\nwant %+v", h, ok, want)
	}
	e.DstIP = netip.Addr{}
	if _, ok := HostResultOf(e); ok {
		t.Error("a result without an address was read")
	}
	if _, ok := HostResultOf(ev("session.connect", nil)); ok {
		t.Error("a connect event was read as a scan result")
	}
}

func TestAttackPartOf(t *testing.T) {
	e := ev("amp.attack.end", map[string]any{"attack_id": "a1", "protocol": "ntp", "victim_ip": "127.0.0.7", "start": "2026-03-04T05:00:00Z"})
	p, ok := AttackPartOf(e)
	want := AttackPart{ID: "a1", Victim: netip.MustParseAddr("127.0.0.7"), Protocol: "ntp",
		Start: time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC), Last: e.Time, Ended: true}
	if !ok || !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v %v\nwant %+v", p, ok, want)
	}
	// Without victim_ip the spoofed source is the victim.
	if p, _ := AttackPartOf(ev("amp.attack.start", map[string]any{"attack_id": "a1", "protocol": "ntp"})); p.Victim != e.SrcIP || p.Ended {
		t.Errorf("start without victim_ip: %+v", p)
	}
	for _, bad := range []*event.Event{
		ev("amp.attack.update", map[string]any{"protocol": "ntp"}),
		ev("amp.attack.update", map[string]any{"attack_id": "a1"}),
		ev("amp.request", map[string]any{"attack_id": "a1", "protocol": "ntp"}),
	} {
		if p, ok := AttackPartOf(bad); ok {
			t.Errorf("%s %v read as %+v", bad.Kind, bad.Data, p)
		}
	}
}

func TestReportIndicators(t *testing.T) {
	e := ev("analysis.report", map[string]any{
		"c2": []any{
			map[string]any{"host": "127.0.0.5", "port": 6667.0, "source": "static", "observed": "config-decoded", "confidence": 75.0, "publish": true},
			map[string]any{"host": "", "port": 80.0},
			map[string]any{"host": "127.0.0.6", "port": 70000.0},
			"junk",
		},
		"urls": []any{"http://127.0.0.8/x", "", strings.Repeat("u", maxReportURL+1), 5,
			map[string]any{"url": "http://127.0.0.9/y", "observed": "sandbox-fetch", "confidence": 50.0}},
	})
	if got, want := ReportC2s(e), []ReportC2{{"127.0.0.5", 6667, "static", Indicated{"config-decoded", 75, true}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("c2s: %+v", got)
	}
	// A bare string is of unknown provenance: never published unreviewed.
	want := []ReportURL{{"http://127.0.0.8/x", Indicated{"legacy-report", 0, false}}, {"http://127.0.0.9/y", Indicated{"sandbox-fetch", 50, false}}}
	if got := ReportURLs(e); !reflect.DeepEqual(got, want) {
		t.Errorf("urls: %+v", got)
	}
	if got := want[0].Review("www.google.com"); got != ReviewAllowlisted {
		t.Errorf("well-known host review %q", got)
	}
	if got := (Indicated{Publish: true}).Review("cnc.example.net"); got != ReviewPublished {
		t.Errorf("corroborated review %q", got)
	}
	if s := ReportStatus(e); s != "done" {
		t.Errorf("status %q, want done", s)
	}
	if rb, err := ReportJSON(e); string(rb) != "{}" || err != nil {
		t.Errorf("report %s %v, want {}", rb, err)
	}
	failed := ev("analysis.report", map[string]any{"status": "failed", "report": map[string]any{"elf": true}})
	if s := ReportStatus(failed); s != "failed" {
		t.Errorf("status %q, want failed", s)
	}
	if rb, err := ReportJSON(failed); string(rb) != `{"elf":true}` || err != nil {
		t.Errorf("report %s %v", rb, err)
	}
}

func TestJSONLists(t *testing.T) {
	fix := func(s string) string { return strings.ReplaceAll(s, "\x00", "?") }
	for _, tc := range []struct {
		v    any
		fix  func(string) string
		want string
	}{
		{[]any{"a", 1.0}, nil, `["a",1]`},
		{[]any{"a\x00b"}, fix, `["a?b"]`},
		{"not a list", nil, `[]`},
		{nil, fix, `[]`},
	} {
		if got := JSONList(tc.v, tc.fix); got != tc.want {
			t.Errorf("JSONList(%v) = %s, want %s", tc.v, got, tc.want)
		}
	}
	if l := StringList("garbage"); l == nil || len(l) != 0 {
		t.Errorf("StringList: %#v", l)
	}
}

func TestCanonicalPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:127.1.2.3/104": "127.0.0.0/8",
		"127.1.2.3/16":         "127.1.0.0/16",
		"::1/128":              "::1/128",
	} {
		if got := CanonicalPrefix(netip.MustParsePrefix(in)).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
