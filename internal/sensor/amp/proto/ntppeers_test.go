package proto

import (
	"net/netip"
	"testing"
)

// TestNTPUpstreamPerInstall: the upstream servers in monlist and the
// refid are drawn per installation from public-looking space, not shared
// documentation addresses.
func TestNTPUpstreamPerInstall(t *testing.T) {
	doc := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	refids := map[[4]byte]bool{}
	for _, seed := range []string{"a", "b", "c", "d"} {
		h, err := newNTP(NewIdentity([]byte(seed)), Options{MonlistEntries: 18})
		if err != nil {
			t.Fatal(err)
		}
		n := h.(*ntpHandler)
		for _, p := range n.peers[:3] {
			a := netip.AddrFrom4(p.addr)
			for _, d := range doc {
				if d.Contains(a) || a.IsPrivate() {
					t.Fatalf("seed %s: upstream %v", seed, a)
				}
			}
		}
		refids[n.refid] = true
	}
	if len(refids) != 4 {
		t.Fatalf("refids shared between installs: %v", refids)
	}
}
