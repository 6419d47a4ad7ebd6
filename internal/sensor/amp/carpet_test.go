package amp

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// carpet is one spoofed flood through every protocol's golden requests,
// with the shipped default budgets and a clock that does not move (so the
// global bucket gives exactly its burst).
type carpet struct {
	in, out, datagrams, maxDatagram int
	perPrefix                       map[netip.Prefix]int
}

func runCarpet(t *testing.T, cfg Shared, victims []netip.Addr, repeat int) carpet {
	t.Helper()
	hub := NewHub(cfg)
	now := time.Unix(1_800_000_000, 0)
	res := carpet{perPrefix: map[netip.Prefix]int{}}
	var to netip.Addr
	w := func(b []byte, dst netip.AddrPort) (int, error) {
		res.out += len(b)
		res.datagrams++
		res.maxDatagram = max(res.maxDatagram, len(b))
		p, _ := dst.Addr().Prefix(24)
		res.perPrefix[p] += len(b)
		return len(b), nil
	}
	ctx := context.Background()
	for _, name := range Protocols() {
		env := sensor.Env{Emitter: sensortest.NewRecorder(), Logger: slog.New(slog.DiscardHandler), Seed: []byte("carpet"),
			Services: map[string]any{ServiceHub: hub}}
		c := DefaultConfig()
		c.Protocol, c.Shared = name, cfg
		s, err := NewSensor(env, c)
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return now }
		reqs, _ := filepath.Glob(filepath.Join("proto/testdata/golden", name, "*.req"))
		if len(reqs) == 0 {
			t.Fatalf("%s: no golden requests", name)
		}
		dst := netip.MustParseAddrPort(DefaultListen(name))
		for _, f := range reqs {
			if strings.Contains(f, "malformed") {
				continue
			}
			q, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < repeat; i++ {
				for _, to = range victims {
					res.in += len(q)
					s.Process(ctx, env, q, netip.AddrPortFrom(to, 40000), dst, 57, w)
				}
			}
		}
	}
	return res
}

// TestCarpetBombingBounded is the worst case docs/amp.md states: requests
// spoofed from all 256 addresses of one /24, through every protocol's
// requests, 20 times each. What leaves towards that network is bounded by
// prefix_reply_budget datagrams per window, whatever the spread.
func TestCarpetBombingBounded(t *testing.T) {
	var victims []netip.Addr
	for i := 0; i < 256; i++ {
		victims = append(victims, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	// with the shipped defaults, and with an unlimited global bucket (the
	// prefix budget alone)
	for _, global := range []bool{true, false} {
		cfg := DefaultShared()
		if !global {
			cfg.EgressBurst, cfg.EgressRate = 1<<30, 1<<30
		}
		r := runCarpet(t, cfg, victims, 20)
		t.Logf("one /24 carpet-bombed (global bucket %v): %d request bytes in, %d reply bytes out in %d datagrams (largest %d B): factor %.4f",
			global, r.in, r.out, r.datagrams, r.maxDatagram, float64(r.out)/float64(r.in))
		if r.datagrams > cfg.PrefixReplyBudget {
			t.Fatalf("%d datagrams to one /24, prefix budget %d", r.datagrams, cfg.PrefixReplyBudget)
		}
		if r.out > cfg.PrefixReplyBudget*largestReply || r.out > cfg.EgressBurst {
			t.Fatalf("%d bytes to one /24 over %d x %d or the burst %d", r.out, cfg.PrefixReplyBudget, largestReply, cfg.EgressBurst)
		}
		if r.maxDatagram > largestReply {
			t.Fatalf("a %d-byte datagram: docs/amp.md states %d as the largest", r.maxDatagram, largestReply)
		}
		if r.out*100 >= r.in {
			t.Fatalf("%d bytes out for %d in", r.out, r.in)
		}
		if r.datagrams == 0 {
			t.Fatal("nothing answered: the first probes of a scanner must be")
		}
	}
}

// largestReply is the largest reply datagram of any protocol's golden
// request: CLDAP's rootDSE (docs/amp.md uses it for the worst case).
const largestReply = 2705

// TestCarpetManyPrefixesBounded spreads the flood over 4,096 /24s: the
// prefix budgets no longer bind, the global bucket does.
func TestCarpetManyPrefixesBounded(t *testing.T) {
	var victims []netip.Addr
	for i := 0; i < 4096; i++ {
		victims = append(victims, netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}))
	}
	cfg := DefaultShared()
	r := runCarpet(t, cfg, victims, 1)
	t.Logf("%d /24s: %d request bytes in, %d reply bytes out in %d datagrams (largest %d B): factor %.3f",
		len(victims), r.in, r.out, r.datagrams, r.maxDatagram, float64(r.out)/float64(r.in))
	if r.out > cfg.EgressBurst {
		t.Fatalf("%d bytes out with a frozen clock, burst %d", r.out, cfg.EgressBurst)
	}
	for p, n := range r.perPrefix {
		if n > cfg.PrefixReplyBudget*largestReply {
			t.Fatalf("%v got %d bytes", p, n)
		}
	}
}
