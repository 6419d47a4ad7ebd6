package source

import (
	"net/netip"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	tests := []struct {
		addr   string
		v6bits int
		want   string
	}{
		{"192.0.2.7", 64, "192.0.2.7/32"},
		{"::ffff:192.0.2.7", 64, "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::/48"},
		{"2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6/128"},
		{"2001:db8:1:2:3:4:5:6", 0, "2001:db8:1:2::/64"},
		{"fe80::1%eth0", 64, "fe80::/64"},
	}
	for _, tc := range tests {
		if got := Key(netip.MustParseAddr(tc.addr), tc.v6bits); got.String() != tc.want {
			t.Errorf("Key(%s, %d) = %s, want %s", tc.addr, tc.v6bits, got, tc.want)
		}
	}
}

func TestLimitersGroupIPv6(t *testing.T) {
	l := PerMinute(3, 64, 0)
	now := time.Unix(1e9, 0)
	for i := 1; i <= 3; i++ {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
		if !l.Allow(a, now) {
			t.Fatalf("address %d of the /64 refused within the burst", i)
		}
	}
	if l.Allow(netip.MustParseAddr("2001:db8::99"), now) {
		t.Fatal("a fourth address of the same /64 got past a budget of 3")
	}
	if !l.Allow(netip.MustParseAddr("2001:db8:0:1::1"), now) {
		t.Fatal("the next /64 is another source")
	}
	if !l.Allow(netip.MustParseAddr("2001:db8::99"), now.Add(20*time.Second)) {
		t.Fatal("one token a 20 s at 3/min")
	}
}

// TestLimitersFloodKeepsBusySources: a flood of fresh addresses past the
// table's size forgets idle sources, never the one that keeps asking.
func TestLimitersFloodKeepsBusySources(t *testing.T) {
	const max = 1000
	l := PerMinute(2, 64, max)
	now := time.Unix(1e9, 0)
	busy := netip.MustParseAddr("192.0.2.1")
	l.Allow(busy, now)
	l.Allow(busy, now)
	for i := range 5 * max {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(a, now)
		if i%100 == 0 && l.Allow(busy, now) {
			t.Fatalf("busy source allowed again after %d fresh addresses", i)
		}
	}
	if l.Len() > max {
		t.Fatalf("%d limiters, cap %d", l.Len(), max)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter(64)
	a, b := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	r1 := c.Acquire(a, 2)
	r2 := c.Acquire(b, 2)
	if r1 == nil || r2 == nil {
		t.Fatal("two slots of a cap of 2 refused")
	}
	if c.Acquire(netip.MustParseAddr("2001:db8::3"), 2) != nil {
		t.Fatal("third address of one /64 got a slot past the cap")
	}
	r1()
	r1() // a second call is harmless
	if c.Held(a) != 1 {
		t.Fatalf("held %d, want 1", c.Held(a))
	}
	r2()
	if c.Held(a) != 0 || len(c.n) != 0 {
		t.Fatal("released slots still counted")
	}
}
