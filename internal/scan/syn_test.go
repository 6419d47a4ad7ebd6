package scan_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

func TestSYNDiscovery(t *testing.T) {
	ctx := context.Background()
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: netip.MustParsePrefix("127.26.0.0/16"), Count: 60, Seed: 12, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	sink := &memSink{}
	cfg := scan.Config{Targets: []string{"127.26.0.0/26"}, Ports: []string{"21,22,23,80,443,502,8080"}, Discovery: "syn",
		Modules: []string{"none"}, Rate: 20000, Seed: 3}
	st, err := scan.Run(ctx, cfg, sink, nil)
	if errors.Is(err, scan.ErrNoRawSocket) {
		t.Skip("no CAP_NET_RAW: SYN mode unavailable")
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range sink.results {
		got = append(got, fmt.Sprintf("%s/tcp", netip.AddrPortFrom(r.IP, r.Port)))
	}
	sort.Strings(got)
	if !slices.Equal(got, farm.Open()) {
		t.Errorf("syn scan found %v\nfarm has %v", got, farm.Open())
	}
	if st.Timeout != 0 || st.Closed+st.Open != st.Space {
		t.Errorf("stats %+v", st)
	}
}
