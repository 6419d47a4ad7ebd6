package app_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan/devicefarm"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// TestScheduledScanFillsHosts: a scan configured in serve's `scan:` section
// walks a device farm and its findings reach the hosts table through the
// bus and the collector, like every other observation.
func TestScheduledScanFillsHosts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: netip.MustParsePrefix("127.44.0.0/24"), Count: 24, Seed: 7, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	ports := map[string]bool{}
	for _, ap := range farm.Open() {
		hp, proto, _ := strings.Cut(ap, "/")
		if i := strings.LastIndex(hp, ":"); i > 0 && proto == "tcp" {
			ports[hp[i+1:]] = true
		}
	}
	var pl []string
	for p := range ports {
		pl = append(pl, p)
	}
	cfg := testConfig(t, fmt.Sprintf("scan:\n  targets: [127.44.0.0/27]\n  ports: [%q]\n  rate: 5000\n  timeout: 3s\n", strings.Join(pl, ",")))
	r := start(t, cfg)
	db, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		hs, err := db.Hosts(context.Background(), store.HostQuery{Prefix: netip.MustParsePrefix("127.44.0.0/24"), Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) > 0 && len(hs) == countTCP(farm.Open()) {
			crit := 0
			for _, h := range hs {
				if h.Class == "critical" {
					crit++
				}
			}
			t.Logf("%d hosts stored, %d critical", len(hs), crit)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hosts stored, farm has %d open TCP ports", len(hs), countTCP(farm.Open()))
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.stop(t)
}

func countTCP(open []string) int {
	n := 0
	for _, s := range open {
		if strings.HasSuffix(s, "/tcp") {
			n++
		}
	}
	return n
}
