package scan_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

// BenchmarkConnectScan measures discovery over a device farm whose ports are
// mostly closed (closed ports answer RST on loopback at once).
func BenchmarkConnectScan(b *testing.B) {
	farm, err := devicefarm.Start(context.Background(), devicefarm.Config{Base: netip.MustParsePrefix("127.41.0.0/16"), Count: 1000, Seed: 1, NoUDP: true})
	if err != nil {
		b.Fatal(err)
	}
	defer farm.Close()
	cfg := scan.Config{Targets: []string{"127.41.0.0/20"}, Ports: []string{"21,22,23,80,443,502,8080,8443"}, Rate: scan.MaxRate,
		Concurrency: 256, Modules: []string{"none"}, Seed: 1}
	var probes uint64
	var secs float64
	b.ResetTimer()
	for b.Loop() {
		st, err := scan.Run(context.Background(), cfg, scan.SinkFunc(func(context.Context, *scan.HostResult) error { return nil }), nil)
		if err != nil {
			b.Fatal(err)
		}
		probes += st.Probes
		secs += st.Duration.Seconds()
	}
	b.ReportMetric(float64(probes)/secs, "probes/s")
}

// BenchmarkHTTPGrabCluster measures HTTP grabs (page and favicon) plus
// clustering and label extraction, per host.
func BenchmarkHTTPGrabCluster(b *testing.B) {
	farm, err := devicefarm.Start(context.Background(), devicefarm.Config{Base: netip.MustParsePrefix("127.42.0.0/16"), Count: 2000, Seed: 2, NoUDP: true})
	if err != nil {
		b.Fatal(err)
	}
	defer farm.Close()
	cfg := scan.Config{Targets: []string{"127.42.0.0/21"}, Ports: []string{"80"}, Rate: scan.MaxRate, Concurrency: 64, Modules: []string{"http"}, Seed: 2}
	var hosts uint64
	var secs float64
	b.ResetTimer()
	for b.Loop() {
		st, err := scan.Run(context.Background(), cfg, scan.SinkFunc(func(context.Context, *scan.HostResult) error { return nil }), nil)
		if err != nil {
			b.Fatal(err)
		}
		hosts += st.Results
		secs += st.Duration.Seconds()
	}
	b.ReportMetric(float64(hosts)/secs, "hosts/s")
}
