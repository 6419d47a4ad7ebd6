package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/miekg/dns"
)

// TestAmpAttackAlertsSubscriber follows a reflection attack through the
// whole platform: spoofed-looking DNS requests reach an amp sensor, the
// attack is detected, the event crosses the bus to the collector, and the
// subscriber of the victim's prefix receives a signed webhook in the
// amplification report layout.
func TestAmpAttackAlertsSubscriber(t *testing.T) {
	got := make(chan alert.Payload, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.Verify("s3cret-0123456789abcdef", r.Header.Get(alert.HeaderSignature), r.Header.Get(alert.HeaderTimestamp), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("bad signature: %v", err)
			w.WriteHeader(400)
			return
		}
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		got <- p
	}))
	defer hook.Close()
	extra := fmt.Sprintf(`  amp-dns:
    listen: 127.0.0.1:0
    attack_threshold: 20
alerts:
  backoff: 100ms
  subscriptions:
    - id: isp-1
      name: Example ISP
      prefixes: [127.0.0.0/8]
      kinds: [amp-victim]
      verified: true
      webhook:
        url: %s
        secret: s3cret-0123456789abcdef
`, hook.URL)
	cfg := testConfig(t, extra)
	s := cfg.Sensors["amp-dns"]
	tr := true
	s.Enabled = &tr
	cfg.Sensors["amp-dns"] = s
	r := start(t, cfg)
	addr := r.listeners["amp-dns"]
	if addr == "" {
		t.Fatalf("amp-dns not listening: %v", r.listeners)
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.9.9")}, mustUDP(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion("example.org.", dns.TypeANY)
	wire, _ := q.Pack()
	sent := time.Now()
	for i := 0; i < 30; i++ {
		c.Write(wire)
	}
	select {
	case p := <-got:
		if p.Kind != "amp-victim" || p.Subscription != "isp-1" || !strings.Contains(p.CSV, "127.0.9.9") || !strings.HasPrefix(p.CSV, "timestamp,protocol,src_ip") {
			t.Fatalf("alert: %+v", p)
		}
		t.Logf("alert delivered %.2f s after the first request", time.Since(sent).Seconds())
	case <-time.After(60 * time.Second):
		t.Fatal("no alert delivered")
	}
}

func mustUDP(t *testing.T, addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
