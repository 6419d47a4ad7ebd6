// Command amp-bench measures the amplification honeypot on loopback: the
// requests per second one amp instance handles with detection and budgets
// active, as a ratio to a bare Go UDP read loop measured in the same run,
// and the memory (RSS) the detection table and budgets take with 1,000,000
// distinct spoofed sources.
//
//	go run ./bench/amp -duration 5s
//	go run ./bench/amp -mode rss -sources 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/amp"
	"github.com/miekg/dns"
)

func main() {
	mode := flag.String("mode", "throughput", "throughput or rss")
	duration := flag.Duration("duration", 5*time.Second, "send time per phase")
	sources := flag.Int("sources", 1_000_000, "distinct spoofed sources (rss mode)")
	egress := flag.Int("egress", 0, "egress budget in bytes/s for rss mode (0: the default); a huge value makes every source hold a reply budget entry, the worst case for memory")
	rounds := flag.Int("rounds", 3, "alternating bare/sensor rounds (throughput mode)")
	senders := flag.Int("senders", 64, "client sockets (distinct 127.x source addresses) in throughput mode")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	var err error
	switch *mode {
	case "throughput":
		err = throughput(*duration, *senders, *rounds)
	case "rss":
		err = rss(*sources, *egress)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "amp-bench:", err)
		os.Exit(1)
	}
}

func query() []byte {
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeANY)
	m.SetEdns0(4096, false)
	b, _ := m.Pack()
	return b
}

// blast sends q to addr from n sockets on distinct loopback addresses until
// stop closes; it returns the datagrams sent.
func blast(addr string, n int, q []byte, stop <-chan struct{}) (*atomic.Int64, *sync.WaitGroup, error) {
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	var conns []*net.UDPConn
	for i := 0; i < n; i++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 20, byte(i/250), byte(1+i%250))})
		if err != nil {
			return nil, nil, err
		}
		conns = append(conns, c)
	}
	var sent atomic.Int64
	var wg sync.WaitGroup
	// Two sending goroutines over disjoint sockets, so the offered load is
	// above what one receiving goroutine takes: the receiver is measured.
	const goroutines = 2
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var mine []*net.UDPConn
			for i := g; i < len(conns); i += goroutines {
				mine = append(mine, conns[i])
			}
			defer func() {
				for _, c := range mine {
					c.Close()
				}
			}()
			for i := 0; ; i++ {
				if i%256 == 0 {
					select {
					case <-stop:
						return
					default:
					}
				}
				if _, err := mine[i%len(mine)].WriteToUDP(q, to); err == nil {
					sent.Add(1)
				}
			}
		}(g)
	}
	return &sent, &wg, nil
}

// bare is the baseline: a plain read loop with the same receive buffer.
func bare(d time.Duration, senders int, q []byte) (float64, float64, error) {
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, 0, err
	}
	_ = pc.SetReadBuffer(4 << 20)
	var got atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}()
	stop := make(chan struct{})
	sent, wg, err := blast(pc.LocalAddr().String(), senders, q, stop)
	if err != nil {
		return 0, 0, err
	}
	time.Sleep(d / 5) // warm up
	start, n0, s0 := time.Now(), got.Load(), sent.Load()
	time.Sleep(d)
	rate := float64(got.Load()-n0) / time.Since(start).Seconds()
	offered := float64(sent.Load()-s0) / time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	pc.Close()
	<-done
	return rate, offered, nil
}

type discard struct{ n atomic.Int64 }

func (d *discard) Emit(context.Context, *event.Event) error { d.n.Add(1); return nil }
func (d *discard) PutSample(context.Context, []byte) (sensor.SampleInfo, error) {
	return sensor.SampleInfo{}, nil
}
func (d *discard) PutRecording(context.Context, string, []byte) error { return nil }

func newSensor(hub *amp.Hub) (*amp.Sensor, sensor.Env, *discard, error) {
	em := &discard{}
	env := sensor.Env{Name: "amp", SensorName: "bench", Emitter: em, Logger: slog.New(slog.DiscardHandler),
		Seed: []byte("bench-seed"), Services: map[string]any{amp.ServiceHub: hub}}
	cfg := amp.DefaultConfig()
	cfg.Shared = hub.Config()
	s, err := amp.NewSensor(env, cfg)
	return s, env, em, err
}

// withSensor runs the DNS emulation behind the real runner, with the
// default detection settings and budgets.
func withSensor(d time.Duration, senders int, q []byte) (float64, float64, *amp.Hub, int64, error) {
	hub := amp.NewHub(amp.DefaultShared())
	s, env, em, err := newSensor(hub)
	if err != nil {
		return 0, 0, nil, 0, err
	}
	f, _ := sensor.Lookup("amp")
	r := &sensor.Runner{Name: "amp", Factory: f, Sensor: s, Limits: sensor.DefaultLimits(), Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		return 0, 0, nil, 0, err
	}
	served := make(chan error, 1)
	go func() { served <- r.Serve(ctx) }()
	stop := make(chan struct{})
	sent, wg, err := blast(r.Addr().String(), senders, q, stop)
	if err != nil {
		return 0, 0, nil, 0, err
	}
	time.Sleep(d / 5)
	start, n0, s0 := time.Now(), hub.Requests.Load(), sent.Load()
	time.Sleep(d)
	rate := float64(hub.Requests.Load()-n0) / time.Since(start).Seconds()
	offered := float64(sent.Load()-s0) / time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	cancel()
	if err := <-served; err != nil {
		return 0, 0, nil, 0, err
	}
	return rate, offered, hub, em.n.Load(), nil
}

func throughput(d time.Duration, senders, rounds int) error {
	q := query()
	fmt.Printf("machine: %d CPUs, %s, GOMAXPROCS %d; %d rounds of %v per phase\n", runtime.NumCPU(), runtime.Version(), runtime.GOMAXPROCS(0), rounds, d)
	var ratios []float64
	for r := 0; r < rounds; r++ {
		base, offBare, err := bare(d, senders, q)
		if err != nil {
			return err
		}
		rate, offAmp, hub, events, err := withSensor(d, senders, q)
		if err != nil {
			return err
		}
		fmt.Printf("round %d: bare read loop %8.0f datagrams/s (offered %.0f); amp dns with detection+budgets %8.0f requests/s (offered %.0f; %d attacks, %d events, %d replies sent = %d B, %d refused); ratio %.2f\n",
			r+1, base, offBare, rate, offAmp, hub.Tracker.Attacks(), events, hub.SentPackets.Load(), hub.SentBytes.Load(), hub.DeniedPackets.Load(), rate/base)
		ratios = append(ratios, rate/base)
	}
	sort.Float64s(ratios)
	fmt.Printf("median ratio: %.2f (min %.2f, max %.2f)\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	return nil
}

func vm(field string) string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(l, field+":"))
		}
	}
	return "?"
}

// rss feeds n distinct spoofed sources through the sensor's full packet
// path (emulation, budgets, detection) without a socket: sending a million
// distinct source addresses over loopback is impractical.
func rss(n, egress int) error {
	cfg := amp.DefaultShared()
	if egress > 0 {
		cfg.EgressRate, cfg.EgressBurst = egress, egress
	}
	hub := amp.NewHub(cfg)
	s, env, em, err := newSensor(hub)
	if err != nil {
		return err
	}
	q := query()
	dst := netip.MustParseAddrPort("127.0.0.1:10053")
	var sent atomic.Int64
	w := func(b []byte, _ netip.AddrPort) (int, error) { sent.Add(int64(len(b))); return len(b), nil }
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < n; i++ {
		// Spread over 10.0.0.0/8 and 100.64.0.0/10 like random spoofing.
		a := netip.AddrFrom4([4]byte{10 + byte(i>>22&0x3f), byte(i >> 14), byte(i >> 6), byte(i<<2 | 1)})
		s.Process(ctx, env, q, netip.AddrPortFrom(a, uint16(1024+i%60000)), dst, 57, w)
		// Half the sources send a second request, so entries are not all fresh.
		if i%2 == 0 {
			s.Process(ctx, env, q, netip.AddrPortFrom(a, uint16(1024+i%60000)), dst, 57, w)
		}
	}
	el := time.Since(start)
	runtime.GC()
	fmt.Printf("machine: %d CPUs, %s\n", runtime.NumCPU(), runtime.Version())
	fmt.Printf("sources %d, requests %d in %v (%.0f/s), tracked entries %d, budgets %d, events %d, sent %d B (egress budget)\n",
		n, hub.Requests.Load(), el.Round(time.Millisecond), float64(hub.Requests.Load())/el.Seconds(), hub.Tracker.Len(), hub.Budgets(), em.n.Load(), sent.Load())
	fmt.Printf("VmRSS %s, VmHWM (peak) %s\n", vm("VmRSS"), vm("VmHWM"))
	return nil
}
