package collector

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/geoip"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// TestEnrichPlacesSourcesAndInjectedPeers checks that the collector adds
// country and AS to the source address and to the peer address an eclipse
// attempt names (enode_ip).
func TestEnrichPlacesSourcesAndInjectedPeers(t *testing.T) {
	dir := t.TempDir()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, cc := range map[string]string{"127.0.0.0/24": "JP", "192.0.2.0/24": "NL"} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(cc)}}); err != nil {
			t.Fatal(err)
		}
	}
	cf, _ := os.Create(filepath.Join(dir, "c.mmdb"))
	if _, err := tree.WriteTo(cf); err != nil {
		t.Fatal(err)
	}
	cf.Close()
	af, _ := os.Create(filepath.Join(dir, "a.mmdb"))
	csv := "ip_range_start,ip_range_end,asn,organization\n127.0.0.0,127.0.0.255,64500,Loop\n192.0.2.0,192.0.2.255,64501,Doc Net\n"
	if _, err := geoip.ImportASNCSV(strings.NewReader(csv), af, geoip.ImportOptions{IncludeReserved: true}); err != nil {
		t.Fatal(err)
	}
	af.Close()
	db, err := geoip.Open(filepath.Join(dir, "c.mmdb"), filepath.Join(dir, "a.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &Collector{GeoIP: db}

	e := event.New("eth", "rpc.call")
	e.SrcIP = netip.MustParseAddr("127.0.0.5")
	e.Set("enode_ip", "192.0.2.10")
	c.enrich(e)
	if e.Str("src_country") != "JP" || fmt.Sprint(e.Data["src_asn"]) != "64500" || e.Str("enode_country") != "NL" || fmt.Sprint(e.Data["enode_asn"]) != "64501" || e.Str("enode_as_org") != "Doc Net" {
		t.Fatalf("enriched %v", e.Data)
	}
	bad := event.New("eth", "rpc.call")
	bad.Set("enode_ip", "not an address")
	c.enrich(bad)
	if _, ok := bad.Data["enode_country"]; ok {
		t.Fatalf("enriched a bad address: %v", bad.Data)
	}
}
