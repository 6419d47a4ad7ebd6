package devicefarm

import (
	"context"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGenerateDeterministic(t *testing.T) {
	base := netip.MustParsePrefix("127.28.0.0/16")
	a, err := Generate(base, 500, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(base, 500, 7)
	c, _ := Generate(base, 500, 8)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different farm")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same farm")
	}
	sites := map[string]bool{}
	templates := map[string]int{}
	for _, d := range a {
		templates[d.Template]++
		if d.Site != "" {
			if sites[d.Site] {
				t.Errorf("site %q deployed twice", d.Site)
			}
			sites[d.Site] = true
		}
		if d.Class == "critical" && d.Template != "contrix-plc" && d.Site == "" {
			t.Errorf("%s: monitoring device without a site", d.IP)
		}
	}
	if len(templates) < 9 || len(a) < 350 {
		t.Errorf("%d devices over templates %v", len(a), templates)
	}
}

func TestGenerateRejectsNonLoopback(t *testing.T) {
	for _, p := range []string{"192.0.2.0/24", "::1/128", "127.0.0.0/30"} {
		if _, err := Generate(netip.MustParsePrefix(p), 10, 1); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

func TestStartServesAndCloses(t *testing.T) {
	f, err := Start(context.Background(), Config{Base: netip.MustParsePrefix("127.28.0.0/16"), Count: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if f.Listeners() != len(f.Open()) {
		t.Errorf("%d sockets for %d services", f.Listeners(), len(f.Open()))
	}
	// A connection held open must not keep Close from returning.
	var held net.Conn
	for _, d := range f.Devices {
		for _, s := range d.Services {
			if s.Proto == "telnet" && held == nil {
				held, err = net.DialTimeout("tcp", netip.AddrPortFrom(d.IP, s.Port).String(), 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if held != nil {
		defer held.Close()
		held.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		if n, err := held.Read(buf); err != nil || n == 0 || buf[0] != 255 {
			t.Errorf("telnet opener % x %v", buf[:n], err)
		}
	}
	f.Close()
}
