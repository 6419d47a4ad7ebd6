package storetest

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// scanResult is a scan.result event as the scanner stores it.
func scanResult(ip string, port uint16, at time.Time, product, class, template string, findings, labels []any) *event.Event {
	e := event.New("scan", "scan.result")
	e.Time, e.Sensor, e.Transport = at, "scanner", "tcp"
	e.DstIP, e.DstPort = netip.MustParseAddr(ip), port
	e.Set("data", map[string]any{"http": map[string]any{"status": "success"}})
	e.Set("classification", map[string]any{"product": product, "class": class})
	e.Set("findings", findings).Set("labels", labels).Set("template", template)
	return e
}

func hostKeys(hs []store.Host) string {
	var s []string
	for _, h := range hs {
		s = append(s, netip.AddrPortFrom(h.IP, h.Port).String())
	}
	return strings.Join(s, " ")
}

// hostCase is a query and the hosts it lists, in order (hostKeys).
type hostCase struct {
	name string
	q    store.HostQuery
	want string
}

// checkHostQueries runs each case as a subtest.
func checkHostQueries(t *testing.T, db store.Store, cases []hostCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := db.Hosts(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := hostKeys(hs); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// walkHostPages checks that walking the pages of each query, in pages of
// every size from one to three, gives the same hosts in the same order as
// one page of all of them.
func walkHostPages(t *testing.T, db store.Store, bases []store.HostQuery) {
	t.Helper()
	ctx := context.Background()
	for _, base := range bases {
		all, err := db.Hosts(ctx, base)
		if err != nil || len(all) < 2 {
			t.Fatalf("%+v: %d hosts, %v", base, len(all), err)
		}
		for size := 1; size <= 3; size++ {
			var got []store.Host
			q := base
			q.Limit = size
			for i := 0; i < 10; i++ {
				page, err := db.Hosts(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if len(page) < size {
					break
				}
				q.After = page[len(page)-1].Cursor
			}
			if hostKeys(got) != hostKeys(all) {
				t.Errorf("%+v by %d: %s, want %s", base, size, hostKeys(got), hostKeys(all))
			}
		}
	}
}

func testHostsFromScanResults(t *testing.T, db store.Store) {
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
	newer := mk(t0.Add(time.Hour), []any{"no-authentication"}, "critical")
	evs := []*event.Event{mk(t0, []any{"login-page-exposed"}, ""), newer}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// A late, older result does not replace the newer view.
	if _, err := db.InsertEvents(ctx, []*event.Event{mk(t0.Add(time.Minute), []any{"stale"}, "")}); err != nil {
		t.Fatal(err)
	}
	hs, err := db.Hosts(ctx, store.HostQuery{Class: "critical"})
	if err != nil || len(hs) != 1 {
		t.Fatalf("hosts: %+v %v", hs, err)
	}
	h := hs[0]
	if h.Service != "http" || h.Vendor != "Acme" || h.DeviceType != "data-logger" || h.Product != "WL-100 logger" || len(h.Findings) != 1 || h.Findings[0] != "no-authentication" ||
		h.Labels[0] != "North Reservoir Gate 3" || h.Template != "abcd" || h.Transport != "tcp" || !h.FirstSeen.Equal(t0) || !h.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("host: %+v", h)
	}
	if hs, _ := db.Hosts(ctx, store.HostQuery{Finding: "no-authentication", Prefix: netip.MustParsePrefix("127.10.0.0/16")}); len(hs) != 1 {
		t.Fatalf("finding+prefix query: %d", len(hs))
	}
	if hs, _ := db.Hosts(ctx, store.HostQuery{IP: netip.MustParseAddr("127.10.0.6")}); len(hs) != 0 {
		t.Fatal("host for another address")
	}
	// A result without findings or labels lists them as empty, not null.
	bare := event.New("scan", "scan.result")
	bare.Time, bare.DstIP, bare.DstPort = t0, netip.MustParseAddr("127.10.0.7"), 22
	if _, err := db.InsertEvents(ctx, []*event.Event{bare}); err != nil {
		t.Fatal(err)
	}
	hs, err = db.Hosts(ctx, store.HostQuery{IP: netip.MustParseAddr("127.10.0.7")})
	if err != nil || len(hs) != 1 || hs[0].Findings == nil || hs[0].Labels == nil || hs[0].Transport != "tcp" {
		t.Fatalf("bare host: %+v %v", hs, err)
	}
}

func testHostsFiltersOrderAndPages(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	evs := []*event.Event{
		scanResult("127.10.0.1", 80, at(1), "WL-100", "critical", "tplA", []any{"no-authentication"}, []any{"Gate 1"}),
		scanResult("127.10.0.2", 80, at(5), "WL-100", "critical", "tplA", []any{"login-page-exposed"}, []any{"Gate 2"}),
		scanResult("127.10.1.3", 23, at(6), "BusyBox", "", "", []any{"telnet-open"}, nil),
		scanResult("127.10.1.3", 80, at(2), "", "", "", []any{}, nil),
		scanResult("::1", 8080, at(4), "Cam-9", "", "tplB", []any{"login-page-exposed"}, []any{"Lobby"}),
		scanResult("127.20.0.4", 53, at(3), "dnsmasq", "", "", []any{"open-reflector:dns"}, nil),
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	checkHostQueries(t, db, []hostCase{
		{"all: critical first, then newest", store.HostQuery{}, "127.10.0.2:80 127.10.0.1:80 127.10.1.3:23 [::1]:8080 127.20.0.4:53 127.10.1.3:80"},
		{"prefix /24", store.HostQuery{Prefix: netip.MustParsePrefix("127.10.1.0/24")}, "127.10.1.3:23 127.10.1.3:80"},
		{"prefix unaligned /15", store.HostQuery{Prefix: netip.MustParsePrefix("127.10.0.0/15")}, "127.10.0.2:80 127.10.0.1:80 127.10.1.3:23 127.10.1.3:80"},
		{"IPv6 prefix", store.HostQuery{Prefix: netip.MustParsePrefix("::/64")}, "[::1]:8080"},
		{"IPv6 /0 has no IPv4 addresses", store.HostQuery{Prefix: netip.MustParsePrefix("::/0")}, "[::1]:8080"},
		{"IPv4 /0 has no IPv6 addresses", store.HostQuery{Prefix: netip.MustParsePrefix("0.0.0.0/0")}, "127.10.0.2:80 127.10.0.1:80 127.10.1.3:23 127.20.0.4:53 127.10.1.3:80"},
		{"IPv4-mapped prefix is the IPv4 prefix", store.HostQuery{Prefix: netip.MustParsePrefix("::ffff:127.20.0.0/112")}, "127.20.0.4:53"},
		{"ip", store.HostQuery{IP: netip.MustParseAddr("127.10.1.3")}, "127.10.1.3:23 127.10.1.3:80"},
		{"IPv4-mapped ip", store.HostQuery{IP: netip.MustParseAddr("::ffff:127.10.1.3")}, "127.10.1.3:23 127.10.1.3:80"},
		{"class", store.HostQuery{Class: "critical"}, "127.10.0.2:80 127.10.0.1:80"},
		{"finding", store.HostQuery{Finding: "login-page-exposed"}, "127.10.0.2:80 [::1]:8080"},
		{"product", store.HostQuery{Product: "WL-100"}, "127.10.0.2:80 127.10.0.1:80"},
		{"since", store.HostQuery{Since: at(4)}, "127.10.0.2:80 127.10.1.3:23 [::1]:8080"},
		{"limit", store.HostQuery{Limit: 3}, "127.10.0.2:80 127.10.0.1:80 127.10.1.3:23"},
		{"nothing", store.HostQuery{Product: "nope"}, ""},
	})

	walkHostPages(t, db, []store.HostQuery{{}, {Class: "critical"}, {Prefix: netip.MustParsePrefix("127.0.0.0/8")}})
	for _, c := range []string{"!!", "bm90IGEgY3Vyc29y", "MSAyIDMgNCA1"} {
		if _, err := db.Hosts(ctx, store.HostQuery{After: c}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}

	sum, err := db.HostSummary(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	counts := func(cs []store.Count) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Key+"="+strconv.FormatInt(c.N, 10))
		}
		return strings.Join(s, " ")
	}
	if sum.Total != 5 || counts(sum.ByClass) != "critical=2" ||
		counts(sum.ByFinding) != "login-page-exposed=2 no-authentication=1 open-reflector:dns=1 telnet-open=1" ||
		counts(sum.ByProduct) != "WL-100=2 BusyBox=1 Cam-9=1 dnsmasq=1" {
		t.Fatalf("summary: %+v", sum)
	}
	if sum, _ := db.HostSummary(ctx, at(5), 10); sum.Total != 2 || counts(sum.ByClass) != "critical=1" {
		t.Fatalf("summary since: %+v", sum)
	}
	if sum, _ := db.HostSummary(ctx, at(100), 10); sum.Total != 0 || sum.ByClass == nil || sum.ByFinding == nil || sum.ByProduct == nil {
		t.Fatalf("empty summary lists must be empty, not null: %+v", sum)
	}
	tpls, err := db.HostTemplates(ctx, time.Time{}, 10, 10)
	if err != nil || len(tpls) != 2 {
		t.Fatalf("templates: %+v %v", tpls, err)
	}
	if a := tpls[0]; a.Template != "tplA" || a.Members != 2 || a.Product != "WL-100" || strings.Join(a.Labels, ",") != "Gate 1,Gate 2" {
		t.Fatalf("template A: %+v", a)
	}
	if b := tpls[1]; b.Template != "tplB" || b.Members != 1 || b.Product != "Cam-9" || strings.Join(b.Labels, ",") != "Lobby" {
		t.Fatalf("template B: %+v", b)
	}
	if tpls, _ := db.HostTemplates(ctx, time.Time{}, 1, 1); len(tpls) != 1 || len(tpls[0].Labels) != 1 {
		t.Fatalf("bounded templates: %+v", tpls)
	}
}
