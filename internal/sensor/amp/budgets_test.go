package amp

import (
	"net/netip"
	"testing"
	"time"
)

func TestReplyBudgetKeys(t *testing.T) {
	cfg := DefaultShared()
	cfg.EgressRate, cfg.EgressBurst = 1<<30, 1<<30
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name  string
		addrs []string
		want  int // replies allowed in total
	}{
		{"one IPv4 source", []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1"}, 3},
		{"IPv4 neighbours are separate", []string{"192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2", "192.0.2.1", "192.0.2.2", "192.0.2.1"}, 6},
		{"mapped and plain IPv4 are one source", []string{"::ffff:192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1", "192.0.2.1"}, 3},
		{"one IPv6 /64 shares a budget", []string{"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"}, 3},
		{"another /64 has its own", []string{"2001:db8::1", "2001:db8:0:1::1", "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1", "2001:db8:0:1::1", "2001:db8::1"}, 6},
	}
	for _, tc := range tests {
		h := NewHub(cfg)
		got := 0
		for _, a := range tc.addrs {
			if h.allow(netip.MustParseAddr(a), 100, now) {
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
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	if !h.allow(a, 1000, now) || h.allow(a, 10, now) {
		t.Fatal("per-source budget of 1")
	}
	if h.allow(b, 1000, now) {
		t.Fatal("global bucket overdrawn: 1000 + 1000 > burst 1500")
	}
	if !h.allow(b, 1000, now.Add(time.Second)) {
		t.Fatal("bucket did not refill at 1000 B/s")
	}
	if !h.allow(a, 100, now.Add(time.Hour+time.Second)) {
		t.Fatal("budget window did not renew")
	}
}
