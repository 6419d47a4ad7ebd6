package amp

import (
	"net/netip"
	"testing"
	"time"
)

func TestReplyBudgetKeys(t *testing.T) {
	type req struct {
		addr  string
		proto uint8
	}
	reqs := func(proto uint8, addrs ...string) []req {
		var l []req
		for _, a := range addrs {
			l = append(l, req{a, proto})
		}
		return l
	}
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name   string
		prefix int // PrefixReplyBudget
		reqs   []req
		want   int // replies allowed in total
	}{
		{"one IPv4 source", 1000, reqs(0, "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1"), 3},
		{"IPv4 neighbours are separate", 1000, reqs(0, "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2", "192.0.2.1"), 6},
		{"mapped and plain IPv4 are one source", 1000, reqs(0, "::ffff:192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1"), 3},
		{"one IPv6 /64 shares a budget", 1000, reqs(0, "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"), 3},
		{"another /64 has its own", 1000, reqs(0, "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1"), 6},
		// a scanner probing several services gets each one's answers
		{"each protocol has its own budget", 1000, append(append(reqs(0, "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1"),
			reqs(1, "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1")...), reqs(2, "192.0.2.1")...), 7},
		// carpet-bombing a /24 draws one prefix budget, not 256 source budgets
		{"an IPv4 /24 shares the prefix budget", 5, reqs(0, "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5", "192.0.2.6", "192.0.2.7"), 5},
		{"the prefix budget spans protocols", 5, append(reqs(0, "192.0.2.1", "192.0.2.2", "192.0.2.3"), reqs(1, "192.0.2.1", "192.0.2.2", "192.0.2.3")...), 5},
		{"the next /24 has its own", 2, reqs(0, "192.0.2.1", "198.51.100.1", "192.0.2.2", "198.51.100.2", "192.0.2.3", "198.51.100.3"), 4},
		{"an IPv6 /48 shares the prefix budget", 4, reqs(0, "2001:db8:0:1::1", "2001:db8:0:2::1", "2001:db8:0:3::1", "2001:db8:0:4::1", "2001:db8:0:5::1"), 4},
		{"another /48 has its own", 1, reqs(0, "2001:db8::1", "2001:db8:1::1", "2001:db8::2", "2001:db8:1::2"), 2},
	}
	for _, tc := range tests {
		cfg := DefaultShared()
		cfg.ReplyBudget, cfg.PrefixReplyBudget = 3, tc.prefix
		cfg.EgressRate, cfg.EgressBurst = 1<<30, 1<<30
		h := NewHub(cfg)
		got := 0
		for _, r := range tc.reqs {
			if h.mayReply(netip.MustParseAddr(r.addr), r.proto, 100, now) != h.allow(netip.MustParseAddr(r.addr), r.proto, 100, now) {
				t.Errorf("%s: mayReply disagrees with allow for %v", tc.name, r)
			}
		}
		h = NewHub(cfg)
		for _, r := range tc.reqs {
			if h.allow(netip.MustParseAddr(r.addr), r.proto, 100, now) {
				got++
			}
		}
		if got != tc.want {
			t.Errorf("%s: %d replies allowed, want %d", tc.name, got, tc.want)
		}
	}
}

func TestBudgetWindowAndGlobalBucket(t *testing.T) {
	cfg := DefaultShared()
	cfg.ReplyBudget = 1
	cfg.ReplyWindow = time.Hour
	cfg.EgressRate, cfg.EgressBurst = 1000, 1500
	h := NewHub(cfg)
	now := time.Unix(1_800_000_000, 0)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.2")
	if !h.allow(a, 0, 1000, now) || h.allow(a, 0, 10, now) {
		t.Fatal("per-source budget of 1")
	}
	if h.allow(b, 0, 1000, now) {
		t.Fatal("global bucket overdrawn: 1000 + 1000 > burst 1500")
	}
	if !h.allow(b, 0, 1000, now.Add(time.Second)) {
		t.Fatal("bucket did not refill at 1000 B/s")
	}
	if !h.allow(a, 0, 100, now.Add(time.Hour+time.Second)) {
		t.Fatal("budget window did not renew")
	}
}

// TestBudgetTableFull: with the table full of live budgets a new victim
// gets nothing (fail closed); once the window passes, sweeping frees it.
func TestBudgetTableFull(t *testing.T) {
	cfg := DefaultShared()
	cfg.MaxEntries = 4 // two sources in two /24s
	cfg.EgressRate, cfg.EgressBurst = 1<<30, 1<<30
	h := NewHub(cfg)
	now := time.Unix(1_800_000_000, 0)
	if !h.allow(netip.MustParseAddr("192.0.2.1"), 0, 10, now) || !h.allow(netip.MustParseAddr("198.51.100.1"), 0, 10, now) {
		t.Fatal("first two sources refused")
	}
	if h.allow(netip.MustParseAddr("203.0.113.1"), 0, 10, now.Add(2*time.Second)) {
		t.Fatal("a full table let a new source in")
	}
	if !h.allow(netip.MustParseAddr("203.0.113.1"), 0, 10, now.Add(2*time.Hour)) {
		t.Fatal("expired budgets were not swept")
	}
}
