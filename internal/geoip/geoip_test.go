package geoip_test

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/geoip"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// CountryDB writes a tiny country database mapping prefixes to ISO codes.
func countryDB(t *testing.T, m map[string]string) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, cc := range m {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(cc)}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, _ := os.Create(path)
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLookup(t *testing.T) {
	cpath := countryDB(t, map[string]string{"127.0.0.0/24": "JP", "127.0.1.0/24": "BR"})
	csvData := "ip_range_start,ip_range_end,asn,organization\n127.0.0.0,127.0.0.255,2497,IIJ\n127.0.1.0,127.0.1.127,AS28573,Claro S.A.\n127.0.2.0,127.0.2.255,0,Not routed\n"
	apath := filepath.Join(t.TempDir(), "asn.mmdb")
	var out bytes.Buffer
	rows, err := geoip.ImportASNCSV(strings.NewReader(csvData), &out, geoip.ImportOptions{IncludeReserved: true})
	if err != nil || rows != 2 {
		t.Fatalf("import: %d rows, %v", rows, err)
	}
	os.WriteFile(apath, out.Bytes(), 0o600)
	db, err := geoip.Open(cpath, apath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		ip   string
		want geoip.Info
	}{
		{"127.0.0.9", geoip.Info{Country: "JP", ASN: 2497, ASOrg: "IIJ"}},
		{"127.0.1.100", geoip.Info{Country: "BR", ASN: 28573, ASOrg: "Claro S.A."}},
		{"127.0.1.200", geoip.Info{Country: "BR"}},
		{"127.0.2.1", geoip.Info{}},
		{"::1", geoip.Info{}},
	}
	for _, tc := range tests {
		if got := db.Lookup(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tc.ip, got, tc.want)
		}
	}
}

func TestMissingFilesMeanNoEnrichment(t *testing.T) {
	db, err := geoip.Open(filepath.Join(t.TempDir(), "nope.mmdb"), "")
	if err != nil || db.Enabled() {
		t.Fatalf("Open of missing files: %v enabled=%v", err, db.Enabled())
	}
	if got := db.Lookup(netip.MustParseAddr("127.0.0.1")); got != (geoip.Info{}) {
		t.Fatal(got)
	}
}

func TestBadCSV(t *testing.T) {
	for _, in := range []string{"1.2.3.4,x,5\n1.2.3.4,1.2.3.5,6\n", "1.2.3.4,1.2.3.5,notanumber\n", "1.2.3.4\n"} {
		if _, err := geoip.ImportASNCSV(strings.NewReader("h,h,h\n"+in), &bytes.Buffer{}, geoip.ImportOptions{}); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
}

func TestCorruptDatabaseIsAnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.mmdb")
	os.WriteFile(p, []byte("not an mmdb"), 0o600)
	if _, err := geoip.Open(p, ""); err == nil {
		t.Fatal("corrupt database accepted")
	}
}
