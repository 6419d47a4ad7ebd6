package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bad  bool
	}{
		{in: "22,80", want: "22 80"},
		{in: "8000-8002,udp:53", want: "8000 8001 8002 udp:53"},
		{in: "80,80,tcp:80", want: "80"},
		{in: "0", bad: true},
		{in: "70000", bad: true},
		{in: "90-80", bad: true},
		{in: "x", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		ps, err := ParsePorts([]string{tt.in})
		if tt.bad {
			if err == nil {
				t.Errorf("%q: accepted", tt.in)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%q: got %v want %s", tt.in, got, tt.want)
		}
	}
}

func TestExcludeFile(t *testing.T) {
	ps, err := ParseExclude(strings.NewReader("# private\n10.0.0.0/8  # rfc1918\n\n192.0.2.7\n2001:db8::/32\n"))
	if err != nil {
		t.Fatal(err)
	}
	set := NewPrefixSet(ps)
	for _, tt := range []struct {
		a    string
		want bool
	}{{"10.1.2.3", true}, {"192.0.2.7", true}, {"192.0.2.8", false}, {"2001:db8::1", true}, {"2001:db9::1", false}, {"::ffff:10.0.0.1", true}} {
		if got := set.Contains(netip.MustParseAddr(tt.a)); got != tt.want {
			t.Errorf("%s: %v", tt.a, got)
		}
	}
	if _, err := ParseExclude(strings.NewReader("not-a-cidr\n")); err == nil {
		t.Error("bad line accepted")
	}
}

func TestSpace(t *testing.T) {
	ports, _ := ParsePorts([]string{"22,80"})
	sp, err := NewSpace([]netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/30"), netip.MustParsePrefix("192.0.2.1/32"), // nested: dropped
		netip.MustParsePrefix("2001:db8::fe/127"),
	}, ports)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Size() != 12 {
		t.Fatalf("size %d", sp.Size())
	}
	seen := map[string]bool{}
	for i := range sp.Size() {
		a, p := sp.At(i)
		if !sp.Contains(a) {
			t.Errorf("index %d → %s outside the space", i, a)
		}
		seen[netip.AddrPortFrom(a, p.Port).String()] = true
	}
	for _, want := range []string{"192.0.2.0:22", "192.0.2.3:80", "[2001:db8::fe]:22", "[2001:db8::ff]:80"} {
		if !seen[want] {
			t.Errorf("%s not in space", want)
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d distinct targets", len(seen))
	}
	if _, err := NewSpace([]netip.Prefix{netip.MustParsePrefix("2001:db8::/64")}, ports); err == nil {
		t.Error("a /64 was accepted")
	}
}

type failDialer struct{ calls int }

func (f *failDialer) DialContext(context.Context, string, string) (net.Conn, error) {
	f.calls++
	return nil, errors.New("dialled")
}

func TestGuardRefusesOffListAddresses(t *testing.T) {
	ports, _ := ParsePorts([]string{"80"})
	sp, _ := NewSpace([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/24")}, ports)
	inner := &failDialer{}
	g := &guardDialer{inner: inner, space: sp, exclude: NewPrefixSet([]netip.Prefix{netip.MustParsePrefix("127.0.0.128/25")})}
	for _, addr := range []string{"127.0.1.1:80", "127.0.0.200:80", "example.com:80", "[::1]:80", "127.0.0.300:80"} {
		if _, err := g.DialContext(context.Background(), "tcp", addr); !errors.Is(err, ErrNotTarget) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if inner.calls != 0 {
		t.Fatalf("inner dialer called %d times", inner.calls)
	}
	if _, err := g.DialContext(context.Background(), "tcp", "127.0.0.5:80"); err == nil || errors.Is(err, ErrNotTarget) {
		t.Errorf("permitted target refused: %v", err)
	}
}
