package amp

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/miekg/dns"
)

func anyQuery(t testing.TB) []byte {
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeANY)
	m.SetEdns0(4096, false)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNeverAmplify floods the DNS emulation with 100,000 ANY queries from
// 1,000 loopback sources plus one source replaying the query 1,000 times,
// and proves that what leaves is bounded by the per-source and global
// budgets, counted both by the clients and by the sensor's egress counter.
func TestNeverAmplify(t *testing.T) {
	cfg := DefaultShared() // the shipped defaults: 20 replies/source/protocol/h, 60 per /24, 16 KiB/s
	hub := NewHub(cfg)
	in, _ := start(t, "dns", hub)
	to, _ := net.ResolveUDPAddr("udp", in.Addr)
	q := anyQuery(t)

	// A scanner's single probe is answered in full.
	probe := exchange(t, "127.0.0.2", in.Addr, q, time.Second)
	if len(probe) != 1 || len(probe[0]) < 2000 {
		t.Fatalf("scanner probe got %d replies", len(probe))
	}
	var resp dns.Msg
	if err := resp.Unpack(probe[0]); err != nil || len(resp.Answer) < 20 || resp.Truncated {
		t.Fatalf("probe reply: %v, %d answers", err, len(resp.Answer))
	}
	maxReply := len(probe[0])
	startSent := hub.SentBytes.Load()

	const sources, perSource, replays = 1000, 99, 1000
	var received, requests atomic.Int64
	begin := time.Now()
	flood := func(from string, n int) {
		c, err := net.ListenPacket("udp", from+":0")
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		for i := 0; i < n; i++ {
			if _, err := c.WriteTo(q, to); err != nil {
				t.Error(err)
				return
			}
			requests.Add(1)
			if i%50 == 49 {
				time.Sleep(time.Millisecond) // let the sensor's buffer drain
			}
		}
		buf := make([]byte, 65536)
		for {
			_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			received.Add(int64(n))
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	wg.Add(1)
	go func() { defer wg.Done(); flood("127.0.0.3", replays) }()
	for i := 0; i < sources; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			flood(fmt.Sprintf("127.10.%d.%d", i/250, 1+i%250), perSource)
		}(i)
	}
	wg.Wait()
	if requests.Load() != sources*perSource+replays {
		t.Fatalf("sent %d requests", requests.Load())
	}
	sent := int64(hub.SentBytes.Load() - startSent)
	elapsed := time.Since(begin) // after reading sent: every counted byte left within elapsed
	perSourceBound := int64((sources + 1) * cfg.ReplyBudget * maxReply)
	globalBound := int64(cfg.EgressBurst) + int64(elapsed.Seconds()*float64(cfg.EgressRate)) + int64(maxReply)
	t.Logf("requests %d in %v: sensor sent %d bytes, clients received %d; bounds: per-source %d, global %d; denied %d bytes",
		requests.Load(), elapsed, sent, received.Load(), perSourceBound, globalBound, hub.DeniedBytes.Load())
	if received.Load() > sent {
		t.Fatalf("clients received %d bytes but the sensor counted %d", received.Load(), sent)
	}
	if sent > perSourceBound || sent > globalBound {
		t.Fatalf("sent %d bytes over the budget (per-source %d, global %d)", sent, perSourceBound, globalBound)
	}
	if sent == 0 {
		t.Fatal("nothing was answered at all")
	}
	// The one replaying source got at most its budget.
	for _, e := range in.Recorder.Events() {
		if e.Kind == "amp.attack.start" && e.SrcIP.String() == "127.0.0.3" && e.Int("replies_sent") > int64(cfg.ReplyBudget) {
			t.Fatalf("replaying source got %d replies", e.Int("replies_sent"))
		}
	}
	in.Recorder.WaitFor(t, "attack start for the replaying source", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "amp.attack.start", func(e *event.Event) bool { return e.SrcIP.String() == "127.0.0.3" }) == 1
	})
}

// TestAttackStartOnPacketPath checks the attack events' content end to end.
func TestAttackStartOnPacketPath(t *testing.T) {
	cfg := testShared()
	cfg.AttackThreshold = 20
	cfg.ReplyBudget = 2
	hub := NewHub(cfg)
	in, _ := start(t, "dns", hub)
	c, err := net.ListenPacket("udp", "127.0.0.44:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	to, _ := net.ResolveUDPAddr("udp", in.Addr)
	q := anyQuery(t)
	for i := 0; i < 25; i++ {
		if _, err := c.WriteTo(q, to); err != nil {
			t.Fatal(err)
		}
	}
	evs := in.Recorder.WaitFor(t, "amp.attack.start", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "amp.attack.start", nil) == 1
	})
	var st *event.Event
	for _, e := range evs {
		if e.Kind == "amp.attack.start" {
			st = e
		}
	}
	if st.SrcIP.String() != "127.0.0.44" || st.Str("victim_ip") != "127.0.0.44" || st.Str("protocol") != "dns" ||
		st.Int("packets") != 20 || st.Str("attack_id") == "" || st.Text("request") != "ANY example.org." ||
		st.Int("replies_sent") != 2 || st.Int("reply_bytes") <= st.Int("reply_bytes_sent") || st.Int("request_bytes") != int64(20*len(q)) {
		t.Fatalf("attack start %+v", st.Data)
	}
	if ttls, ok := st.Data["ttls"].([]int); !ok || len(ttls) != 1 || ttls[0] != 64 {
		t.Fatalf("ttls %v (loopback TTL is 64)", st.Data["ttls"])
	}
	if n := sensortest.Count(evs, "amp.request", nil); n < 3 {
		t.Fatalf("%d sampled requests", n)
	}
}
