package scan_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

type nmapRun struct {
	Hosts []struct {
		Address struct {
			Addr string `xml:"addr,attr"`
		} `xml:"address"`
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			PortID   int    `xml:"portid,attr"`
			State    struct {
				State string `xml:"state,attr"`
			} `xml:"state"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

// TestNmapAgrees runs Debian's nmap (a connect scan, no privileges needed)
// over the same simulated range and compares the open ports.
func TestNmapAgrees(t *testing.T) {
	nmap, err := exec.LookPath("nmap")
	if err != nil {
		t.Skip("nmap not installed (scripts/deps/scan.apt lists it)")
	}
	ctx := context.Background()
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: netip.MustParsePrefix("127.10.0.0/16"), Count: 14, Seed: 99, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	const ports = "21,22,23,80,443,502,8080"
	out, err := exec.CommandContext(ctx, nmap, "-Pn", "-n", "-sT", "-p", ports, "--max-retries", "2", "127.10.0.0/28", "-oX", "-").Output()
	if err != nil {
		t.Fatalf("nmap: %v", err)
	}
	var run nmapRun
	if err := xml.Unmarshal(out, &run); err != nil {
		t.Fatalf("nmap xml: %v", err)
	}
	var byNmap []string
	for _, h := range run.Hosts {
		for _, p := range h.Ports {
			if p.State.State == "open" {
				byNmap = append(byNmap, fmt.Sprintf("%s:%d/%s", h.Address.Addr, p.PortID, p.Protocol))
			}
		}
	}
	sort.Strings(byNmap)

	sink := &memSink{}
	cfg := scan.Config{Targets: []string{"127.10.0.0/28"}, Ports: []string{ports}, Rate: 10000, Seed: 1, Modules: []string{"telnet"}, Timeout: 30 * time.Second}
	if _, err := scan.Run(ctx, cfg, sink, nil); err != nil {
		t.Fatal(err)
	}
	var byUs []string
	for _, r := range sink.results {
		byUs = append(byUs, fmt.Sprintf("%s/%s", netip.AddrPortFrom(r.IP, r.Port), r.Transport))
	}
	sort.Strings(byUs)
	if len(byNmap) == 0 || !slices.Equal(byNmap, byUs) || !slices.Equal(byUs, farm.Open()) {
		t.Errorf("open ports disagree:\n nmap %v\n scan %v\n farm %v", byNmap, byUs, farm.Open())
	}
}
