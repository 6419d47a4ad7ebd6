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
	"github.com/kansoku/kansoku/internal/config"
	"github.com/miekg/dns"
)

const hookSecret = "s3cret-0123456789abcdef"

// TestAmpAttackAlertsSubscriber follows a reflection attack through the
// whole platform: spoofed-looking DNS requests reach an amp sensor, the
// attack is detected, the event crosses the bus to the collector, and the
// subscriber of the victim's prefix receives a signed webhook in the
// amplification report layout.
func TestAmpAttackAlertsSubscriber(t *testing.T) {
	hookURL, got := webhookReceiver(t)
	extra := fmt.Sprintf(`alerts:
  backoff: 100ms
  subscriptions:
    - id: isp-1
      name: Example ISP
      prefixes: [127.0.0.0/8]
      kinds: [amp-victim]
      verified: true
      webhook:
        url: %s
        secret: %s
`, hookURL, hookSecret)
	r := start(t, ampConfig(t, extra))
	sent := time.Now()
	reflectionAttack(t, r.listeners["amp-dns"], "127.0.9.9")
	p := awaitAlert(t, got)
	if p.Kind != "amp-victim" || p.Subscription != "isp-1" || !strings.Contains(p.CSV, "127.0.9.9") || !strings.HasPrefix(p.CSV, "timestamp,protocol,src_ip") {
		t.Fatalf("alert: %+v", p)
	}
	t.Logf("alert delivered %.2f s after the first request", time.Since(sent).Seconds())
}

// webhookReceiver is a subscriber's endpoint: it checks each alert's
// signature (secret hookSecret) and passes the payloads on.
func webhookReceiver(t *testing.T) (string, <-chan alert.Payload) {
	got := make(chan alert.Payload, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.Verify(hookSecret, r.Header.Get(alert.HeaderSignature), r.Header.Get(alert.HeaderTimestamp), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("bad signature: %v", err)
			w.WriteHeader(400)
			return
		}
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		select {
		case got <- p:
		default:
		}
	}))
	t.Cleanup(hook.Close)
	return hook.URL, got
}

func awaitAlert(t *testing.T, got <-chan alert.Payload) alert.Payload {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(60 * time.Second):
		t.Fatal("no alert delivered")
	}
	return alert.Payload{}
}

// ampConfig is the test config with the amp-dns sensor on and quick to
// call an attack.
func ampConfig(t *testing.T, extra string) *config.Config {
	cfg := testConfig(t, "  amp-dns:\n    listen: 127.0.0.1:0\n    attack_threshold: 20\n"+extra)
	s := cfg.Sensors["amp-dns"]
	tr := true
	s.Enabled = &tr
	cfg.Sensors["amp-dns"] = s
	return cfg
}

// reflectionAttack sends the amp-dns sensor at addr enough ANY queries from
// victim (a loopback address) to be detected as a reflection attack on it.
func reflectionAttack(t *testing.T, addr, victim string) {
	t.Helper()
	if addr == "" {
		t.Fatal("amp-dns not listening")
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(victim)}, mustUDP(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion("example.org.", dns.TypeANY)
	wire, _ := q.Pack()
	for i := 0; i < 30; i++ {
		c.Write(wire)
	}
}

func mustUDP(t *testing.T, addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
