package access

import (
	"net/netip"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
)

func TestMayMatrix(t *testing.T) {
	callers := map[string]Caller{
		"anonymous":        Anonymous,
		"samples:download": {KeyID: "k1", Scopes: []string{ScopeSamplesDownload}},
		"feeds:read":       {KeyID: "k2", Scopes: []string{ScopeFeedsRead}},
		"check:any":        {KeyID: "k3", Scopes: []string{ScopeCheckAny}, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
		"admin":            {Admin: true},
	}
	want := map[string][]Kind{
		"anonymous":        {Activity, Aggregate},
		"samples:download": {Activity, Aggregate, Sample},
		"feeds:read":       {Activity, Aggregate, Exposure, Victims, Bulk},
		"check:any":        {Activity, Aggregate, Lookup},
		"admin":            Kinds,
	}
	for name, c := range callers {
		for _, k := range Kinds {
			ok := false
			for _, w := range want[name] {
				ok = ok || w == k
			}
			if c.May(k) != ok {
				t.Errorf("%s May(%s) = %v, want %v", name, k, !ok, ok)
			}
		}
	}
	ck := callers["check:any"]
	if !ck.MayLookup(netip.MustParseAddr("192.0.2.9")) || ck.MayLookup(netip.MustParseAddr("198.51.100.1")) {
		t.Error("check:any lookups not bounded by the key's prefixes")
	}
	if callers["feeds:read"].MayLookup(netip.MustParseAddr("192.0.2.9")) || !callers["admin"].MayLookup(netip.MustParseAddr("198.51.100.1")) {
		t.Error("lookup granted without check:any, or refused to an admin")
	}
}

func TestOf(t *testing.T) {
	tests := []struct {
		honeypot, kind string
		want           Kind
	}{
		{"telnet", "login.success", Activity},
		{"ssh", "command.input", Activity},
		{"sandbox", "analysis.report", Activity},
		{"amp", "amp.attack.start", Victims},
		{"amp", "amp.request", Victims},
		{"scan", "scan.result", Exposure},
		{"", "scan.host", Exposure},
	}
	for _, tc := range tests {
		e := event.New(tc.honeypot, tc.kind)
		if got := Of(e); got != tc.want {
			t.Errorf("Of(%s %s) = %s, want %s", tc.honeypot, tc.kind, got, tc.want)
		}
	}
	evs := []*event.Event{event.New("telnet", "login.failed"), event.New("amp", "amp.attack.start"), event.New("scan", "scan.result")}
	if got := Anonymous.Filter(evs); len(got) != 1 || got[0].Honeypot != "telnet" {
		t.Errorf("anonymous filter kept %d events", len(got))
	}
}
