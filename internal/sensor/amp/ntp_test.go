package amp

import (
	"encoding/binary"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNtpqReadvar runs ntpsec's ntpq (mode 6) against the emulation. ntpq
// cannot be given a port, so the sensor binds 127.0.0.123:123.
func TestNtpqReadvar(t *testing.T) {
	ntpq := need(t, "ntpq")
	_, _ = startAt(t, "ntp", NewHub(testShared()), "127.0.0.123:123")
	out := run(t, ntpq, "-n", "-c", "rv", "127.0.0.123")
	for _, want := range []string{"version=\"ntpd 4.2.6p5", "stratum=2", "refid=", "clk_wander="} {
		if !strings.Contains(out, want) {
			t.Errorf("ntpq rv output lacks %q:\n%s", want, out)
		}
	}
	// the refid is the install's first upstream, never a documentation address
	if !refidRE.MatchString(out) || strings.Contains(out, "refid=203.0.113.") {
		t.Errorf("ntpq rv refid:\n%s", out)
	}
}

// TestNtpdcMonlist sends the exact request `ntpdc -c monlist` sends (the
// golden file; Debian ships no ntpdc) and parses the mode 7 reply as ntpdc
// does: 72-byte info_monitor_1 items, 6 per datagram, the more bit on all
// but the last.
func TestNtpdcMonlist(t *testing.T) {
	req, err := os.ReadFile("proto/testdata/golden/ntp/monlist-ntpdc.req")
	if err != nil {
		t.Fatal(err)
	}
	in, _ := start(t, "ntp", NewHub(testShared()))
	pkts := exchange(t, "127.0.0.1", in.Addr, req, time.Second)
	if len(pkts) != 3 {
		t.Fatalf("%d monlist datagrams, want 3 (18 peers)", len(pkts))
	}
	peers := 0
	for i, p := range pkts {
		if len(p) < 8 || p[0]&0x80 == 0 || p[0]&7 != 7 || p[3] != 42 || int(p[1]&0x7f) != i {
			t.Fatalf("datagram %d header % x", i, p[:8])
		}
		if more := p[0]&0x40 != 0; more != (i < len(pkts)-1) {
			t.Fatalf("datagram %d more bit %v", i, more)
		}
		items, size := int(binary.BigEndian.Uint16(p[4:])&0x0fff), int(binary.BigEndian.Uint16(p[6:]))
		if size != 72 || items != 6 || len(p) != 8+items*size {
			t.Fatalf("datagram %d: %d items of %d bytes in %d bytes", i, items, size, len(p))
		}
		peers += items
	}
	if peers != 18 {
		t.Fatalf("%d peers", peers)
	}
}

var refidRE = regexp.MustCompile(`refid=[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3},`)
