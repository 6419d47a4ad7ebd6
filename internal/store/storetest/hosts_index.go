package storetest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// testHostsByFindingAndTemplate lists the hosts with one finding and the
// members of one template cluster: in the listing order, across pages of
// every size, and following each host's newest scan result only.
func testHostsByFindingAndTemplate(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	insert := func(evs ...*event.Event) {
		t.Helper()
		if _, err := db.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	web := []any{"login-page-exposed"}
	insert(
		scanResult("127.30.0.1", 80, at(1), "WL-100", "critical", "tplA", []any{"login-page-exposed", "no-authentication"}, nil),
		scanResult("127.30.0.2", 80, at(7), "WL-100", "", "tplA", web, nil),
		scanResult("127.30.0.2", 8080, at(7), "WL-100", "", "tplA", web, nil),
		scanResult("127.30.1.3", 443, at(3), "Cam-9", "", "tplB", []any{"login-page-exposed", "login-page-exposed"}, nil),
		scanResult("127.31.0.4", 80, at(5), "WL-100", "critical", "tplA", web, nil),
		scanResult("::1", 80, at(6), "Cam-9", "", "tplA", web, nil),
		scanResult("127.30.0.5", 23, at(8), "BusyBox", "", "", []any{"telnet-open"}, nil),
		// tplAB shares a prefix with tplA and is not one of its members.
		scanResult("127.30.0.6", 80, at(2), "WL-100", "", "tplAB", web, nil),
	)
	// A newer result replaces a host's findings and class; a late, older
	// one changes neither.
	insert(scanResult("127.30.0.6", 80, at(9), "WL-100", "critical", "tplAB", []any{"no-authentication"}, nil))
	insert(scanResult("127.30.0.6", 80, at(4), "WL-100", "", "tplAB", []any{"stale"}, nil))
	insert(scanResult("127.30.1.3", 443, at(4), "Cam-9", "critical", "tplB", []any{"login-page-exposed"}, nil))

	checkHostQueries(t, db, []hostCase{
		{"finding: critical first, then newest", store.HostQuery{Finding: "login-page-exposed"},
			"127.31.0.4:80 127.30.1.3:443 127.30.0.1:80 127.30.0.2:8080 127.30.0.2:80 [::1]:80"},
		{"finding replaced by a newer result", store.HostQuery{Finding: "no-authentication"}, "127.30.0.6:80 127.30.0.1:80"},
		{"an older result's finding", store.HostQuery{Finding: "stale"}, ""},
		{"finding in a prefix", store.HostQuery{Finding: "login-page-exposed", Prefix: netip.MustParsePrefix("127.30.0.0/16")},
			"127.30.1.3:443 127.30.0.1:80 127.30.0.2:8080 127.30.0.2:80"},
		{"finding in an IPv6 prefix", store.HostQuery{Finding: "login-page-exposed", Prefix: netip.MustParsePrefix("::/64")}, "[::1]:80"},
		{"finding at an address", store.HostQuery{Finding: "login-page-exposed", IP: netip.MustParseAddr("127.30.0.2")}, "127.30.0.2:8080 127.30.0.2:80"},
		{"finding and class", store.HostQuery{Finding: "login-page-exposed", Class: "critical"}, "127.31.0.4:80 127.30.1.3:443 127.30.0.1:80"},
		{"finding since", store.HostQuery{Finding: "login-page-exposed", Since: at(5)}, "127.31.0.4:80 127.30.0.2:8080 127.30.0.2:80 [::1]:80"},
		{"finding and template", store.HostQuery{Finding: "login-page-exposed", Template: "tplB"}, "127.30.1.3:443"},
		{"template", store.HostQuery{Template: "tplA"}, "127.31.0.4:80 127.30.0.1:80 127.30.0.2:8080 127.30.0.2:80 [::1]:80"},
		{"template is exact", store.HostQuery{Template: "tpl"}, ""},
		{"template and class", store.HostQuery{Template: "tplA", Class: "critical"}, "127.31.0.4:80 127.30.0.1:80"},
		{"template in a prefix", store.HostQuery{Template: "tplA", Prefix: netip.MustParsePrefix("127.30.0.0/24")}, "127.30.0.1:80 127.30.0.2:8080 127.30.0.2:80"},
	})
	// The findings a page shows are the host row's, whichever table found it.
	if hs, _ := db.Hosts(ctx, store.HostQuery{Finding: "no-authentication", Limit: 1}); len(hs) != 1 || len(hs[0].Findings) != 1 || hs[0].Class != "critical" || hs[0].Template != "tplAB" {
		t.Fatalf("host by finding: %+v", hs)
	}

	walkHostPages(t, db, []store.HostQuery{
		{Finding: "login-page-exposed"},
		{Finding: "login-page-exposed", Prefix: netip.MustParsePrefix("127.0.0.0/8")},
		{Finding: "login-page-exposed", Class: "critical"},
		{Template: "tplA"},
		{Template: "tplA", Class: "critical"},
	})
}

// UpgradeHostFindings holds a driver's migration of host_findings to the
// same result as its deriver: it stores scan results in db, lets
// downgrade take the schema back to before the migration (dropping the
// table and unrecording the migration), and checks that the store reopen
// returns finds every stored host by finding, and by finding in a prefix
// (only strings are findings).
func UpgradeHostFindings(t *testing.T, db store.Store, downgrade func(), reopen func() store.Store) {
	t.Helper()
	ctx := context.Background()
	var evs []*event.Event
	for i, f := range [][]any{{"no-authentication", "telnet-open", 7}, {"no-authentication"}, {"telnet-open"}} {
		e := event.New("scan", "scan.result")
		e.Time, e.DstIP, e.DstPort = time.Now(), netip.AddrFrom4([4]byte{127, 34, 0, byte(i + 1)}), 80
		e.Set("findings", f)
		evs = append(evs, e)
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	downgrade()
	db = reopen()
	for _, tc := range []struct {
		q    store.HostQuery
		want int
	}{
		{store.HostQuery{Finding: "no-authentication"}, 2},
		{store.HostQuery{Finding: "telnet-open"}, 2},
		{store.HostQuery{Finding: "7"}, 0}, // not a string: not a finding
		{store.HostQuery{Finding: "no-authentication", Prefix: netip.MustParsePrefix("127.34.0.0/30")}, 2},
		{store.HostQuery{Finding: "telnet-open", Prefix: netip.MustParsePrefix("127.34.0.3/32")}, 1},
	} {
		if hs, err := db.Hosts(ctx, tc.q); err != nil || len(hs) != tc.want {
			t.Errorf("%+v after upgrade: %d hosts, want %d (%v)", tc.q, len(hs), tc.want, err)
		}
	}
}
