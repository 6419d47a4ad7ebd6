package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/feeds"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// TestExportSpray: one password tried against twelve VPN accounts from
// three sources is one campaign in the spraying report; the same logons are
// rows of the brute-force report.
func TestExportSpray(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-2 * time.Hour)
	var evs []*event.Event
	for i := range 12 {
		e := event.New("vpn", "login.failed")
		e.Time, e.Sensor, e.Session = start.Add(time.Duration(i)*time.Minute), "s1", fmt.Sprintf("sess%d", i)
		e.SrcIP, e.SrcPort = netip.MustParseAddr(fmt.Sprintf("127.0.0.%d", 10+i%3)), 40000
		e.DstIP, e.DstPort, e.Transport = netip.MustParseAddr("127.0.0.1"), 10443, "tcp"
		e.SetText("username", fmt.Sprintf("user%02d", i)).SetText("password", "Winter2026!").Set("service", "vpn")
		evs = append(evs, e)
	}
	if _, err := db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out, errb bytes.Buffer
	if code := Main([]string{"export", "--format", "report-spray", "--db", path, "--since", "24h"}, &out, &errb); code != 0 {
		t.Fatalf("export: %d %s", code, errb.String())
	}
	recs, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil || len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(feeds.SprayColumns, ",") {
		t.Fatalf("report %v %v", recs, err)
	}
	row := map[string]string{}
	for i, c := range recs[0] {
		row[c] = recs[1][i]
	}
	if row["service"] != "vpn" || row["passwords"] != "Winter2026!" || row["users"] != "12" || row["sources"] != "3" || !strings.Contains(row["usernames"], "user07") {
		t.Fatalf("campaign row %v", row)
	}
	out.Reset()
	if code := Main([]string{"export", "--format", "report-bruteforce", "--db", path, "--since", "24h"}, &out, &errb); code != 0 || strings.Count(out.String(), "Winter2026!") != 12 {
		t.Fatalf("brute-force report: %d\n%s", code, out.String())
	}
}
