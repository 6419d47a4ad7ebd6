package scan_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/cluster"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
	_ "github.com/kansoku/kansoku/internal/scan/modules/all"
)

// recordingDialer records every address dialled, so a test can prove the
// scanner never left its target list.
type recordingDialer struct {
	mu    sync.Mutex
	addrs map[string]int
	d     net.Dialer
}

func (r *recordingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	r.mu.Lock()
	if r.addrs == nil {
		r.addrs = map[string]int{}
	}
	r.addrs[address]++
	r.mu.Unlock()
	return r.d.DialContext(ctx, network, address)
}

type memSink struct {
	mu      sync.Mutex
	results []*scan.HostResult
}

func (m *memSink) Put(_ context.Context, r *scan.HostResult) error {
	m.mu.Lock()
	m.results = append(m.results, r)
	m.mu.Unlock()
	return nil
}

var allPorts = []string{"21,22,23,80,443,502,8080", "udp:53,udp:123,udp:161,udp:1900,udp:11211,udp:19"}

func TestScanFarm(t *testing.T) {
	ctx := context.Background()
	base := netip.MustParsePrefix("127.20.0.0/16")
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: base, Count: 300, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()

	excluded := netip.MustParsePrefix("127.20.0.64/27")
	rec := &recordingDialer{}
	sink := &memSink{}
	var clusters []cluster.Cluster
	cfg := scan.Config{
		Targets: []string{"127.20.0.0/23"}, Ports: allPorts, Exclude: []string{excluded.String()},
		// Generous timeouts: under -race on a busy 2-core machine an SSH
		// handshake can take seconds; correctness, not speed, is tested.
		Rate: scan.MaxRate, Concurrency: 128, Seed: 7, Dialer: rec, Timeout: 30 * time.Second, ConnectTimeout: 10 * time.Second,
		OnClusters: func(c []cluster.Cluster) { clusters = c },
	}
	st, err := scan.Run(ctx, cfg, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats %+v", st)

	// Exactly the open ports outside the exclusion, nothing else.
	var want []string
	for _, o := range farm.Open() {
		ap := netip.MustParseAddrPort(strings.Split(o, "/")[0])
		if !excluded.Contains(ap.Addr()) {
			want = append(want, o)
		}
	}
	byKey := map[string]*scan.HostResult{}
	var got []string
	for _, r := range sink.results {
		k := fmt.Sprintf("%s/%s", netip.AddrPortFrom(r.IP, r.Port), r.Transport)
		got = append(got, k)
		byKey[k] = r
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("open ports differ:\n missing %v\n extra %v", diff(want, got), diff(got, want))
	}

	// Nothing dialled outside the targets or inside the exclusion.
	targets := netip.MustParsePrefix("127.20.0.0/23")
	for a := range rec.addrs {
		ap := netip.MustParseAddrPort(a)
		if !targets.Contains(ap.Addr()) || excluded.Contains(ap.Addr()) {
			t.Errorf("dialled %s outside the permitted targets", a)
		}
	}
	if st.Excluded != 32*uint64(len(strings.Split(strings.Join(allPorts, ","), ","))) {
		t.Errorf("excluded %d probes", st.Excluded)
	}

	// Classification, findings and labels per device.
	for _, d := range farm.Devices {
		if excluded.Contains(d.IP) {
			continue
		}
		for _, s := range d.Services {
			k := fmt.Sprintf("%s/%s", netip.AddrPortFrom(d.IP, s.Port), s.Transport)
			r := byKey[k]
			if r == nil {
				continue // reported above
			}
			checkResult(t, d, s, r)
		}
	}

	// One cluster per web template, each holding exactly its template.
	tmplOf := map[string]string{}
	for _, d := range farm.Devices {
		tmplOf[netip.AddrPortFrom(d.IP, 80).String()] = d.Template
	}
	seen := map[string]bool{}
	for _, c := range clusters {
		if c.Port != 80 {
			continue
		}
		tm := tmplOf[c.Members[0]]
		if seen[tm] {
			t.Errorf("template %s split over several clusters", tm)
		}
		seen[tm] = true
		for _, m := range c.Members {
			if tmplOf[m] != tm {
				t.Errorf("cluster %s (%s) holds %s of template %s", c.ID, tm, m, tmplOf[m])
			}
		}
	}
}

func checkResult(t *testing.T, d *devicefarm.Device, s devicefarm.Service, r *scan.HostResult) {
	t.Helper()
	k := fmt.Sprintf("%s:%d/%s", d.IP, s.Port, s.Transport)
	mr, ok := r.Data[s.Proto]
	if !ok || mr.Status != scan.StatusSuccess {
		t.Errorf("%s: module %s: %+v", k, s.Proto, mr)
		return
	}
	has := func(f string) bool { return slices.Contains(r.Findings, f) }
	switch s.Proto {
	case "http":
		if r.Classification == nil || r.Classification.Product != d.Product || r.Classification.Class != d.Class {
			t.Errorf("%s: classified %+v, want %q class %q", k, r.Classification, d.Product, d.Class)
		}
		if d.Site != "" && !slices.Contains(r.Labels, d.Site) {
			t.Errorf("%s: labels %q lack site %q", k, r.Labels, d.Site)
		}
		switch d.Template {
		case "suii-logger", "aquagate", "damview", "solareye":
			if !has(scan.FindingNoAuthentication) {
				t.Errorf("%s: findings %v lack no-authentication", k, r.Findings)
			}
		case "wr-router", "ipcam", "storebox-nas", "contrix-plc":
			if !has(scan.FindingLoginPage) {
				t.Errorf("%s: findings %v lack login-page-exposed", k, r.Findings)
			}
		case "linux-server":
			if !has(scan.FindingDefaultPage) {
				t.Errorf("%s: findings %v lack default-page", k, r.Findings)
			}
		}
	case "telnet":
		if !has(scan.FindingTelnetOpen) {
			t.Errorf("%s: findings %v", k, r.Findings)
		}
	case "modbus":
		if !has(scan.FindingModbusExposed) || r.Classification == nil || r.Classification.Class != "critical" {
			t.Errorf("%s: findings %v class %+v", k, r.Findings, r.Classification)
		}
	case "dns", "ntp", "ssdp", "memcached", "chargen", "snmp":
		if !has(scan.FindingOpenReflector + ":" + s.Proto) {
			t.Errorf("%s: findings %v", k, r.Findings)
		}
	}
}

func diff(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
