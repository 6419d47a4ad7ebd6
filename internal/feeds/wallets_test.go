package feeds

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/ethcampaign"
)

func walletFixture() []ethcampaign.Wallet {
	t0 := time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)
	return []ethcampaign.Wallet{
		{Address: "0x7c3a2b8e4f0d9a16b5c8e2f1a0d3b6c9e8f7a6b5", Currency: "eth", Via: []string{"eth_sendTransaction", "personal_sendTransaction"}, Sources: 3, Count: 9, MaxValue: "5000000000000000000", First: t0, Last: t0.Add(48 * time.Hour)},
		{Address: "=cmd|' /C calc'!A0", Currency: "eth", Via: []string{"miner_setEtherbase"}, Sources: 1, Count: 1, First: t0.Add(time.Hour), Last: t0.Add(time.Hour)},
	}
}

func TestWalletsCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWalletsCSV(&buf, walletFixture()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(WalletCSVColumns, ",") {
		t.Fatalf("%v %v", err, recs)
	}
	if r := recs[1]; r[2] != "0x7c3a2b8e4f0d9a16b5c8e2f1a0d3b6c9e8f7a6b5" || r[4] != "eth_sendTransaction personal_sendTransaction" || r[5] != "3" || r[7] != "5000000000000000000" || r[0] != "2026-11-02 03:04:05" {
		t.Errorf("row %v", r)
	}
	if strings.HasPrefix(recs[2][2], "=") {
		t.Errorf("formula not neutralised: %q", recs[2][2])
	}
}

func TestWalletsInMISPAndSTIX(t *testing.T) {
	urls, c2s, samples, fam := fixture()
	f := BuildMISP(urls, c2s, samples, opts)
	AddWalletsMISP(&f, walletFixture(), opts)
	dir := t.TempDir()
	if err := f.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	found := false
	for id := range f.Manifest {
		raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		vals := checkMISPEvent(t, raw, id)
		found = found || vals["text 0x7c3a2b8e4f0d9a16b5c8e2f1a0d3b6c9e8f7a6b5"]
	}
	if !found {
		t.Error("wallet attribute missing from the MISP feed")
	}

	b := BuildSTIX(urls, c2s, samples, fam, opts)
	before := b.ID
	AddWalletsSTIX(&b, walletFixture(), opts)
	if b.ID == before {
		t.Error("bundle id unchanged by new objects")
	}
	var buf bytes.Buffer
	if err := WriteSTIX(&buf, b); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range checkSTIX(t, buf.Bytes()) {
		if p, _ := o["pattern"].(string); strings.HasPrefix(p, "["+STIXWalletType+":address = ") {
			n++
			if !strings.Contains(p, "currency = 'eth'") {
				t.Errorf("pattern %s", p)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d wallet indicators, want 2", n)
	}
}
