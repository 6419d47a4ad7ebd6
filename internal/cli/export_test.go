package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/feeds"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

func portalDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Add(-time.Hour)
	mk := func(kind string) *event.Event {
		e := event.New("telnet", kind)
		e.Time, e.Sensor, e.Session = now, "s1", "sess1"
		e.SrcIP, e.SrcPort, e.DstIP, e.DstPort = netip.MustParseAddr("127.0.0.66"), 4000, netip.MustParseAddr("127.0.0.1"), 23
		return e
	}
	l := mk("login.success")
	l.SetText("username", "root")
	l.SetText("password", "vizxv")
	d := mk("download.ok")
	d.SetText("url", "http://127.0.0.5/bins/x.arm7")
	if _, err := db.InsertEvents(context.Background(), []*event.Event{mk("session.connect"), l, d}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPortalCommands(t *testing.T) {
	db := portalDB(t)
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Main(args, &out, &errb)
		return out.String(), errb.String(), code
	}
	for _, tc := range []struct {
		format string
		header []string
	}{{"urlhaus-csv", feeds.URLhausCSVColumns}, {"threatfox-csv", feeds.ThreatFoxCSVColumns}, {"feodo-csv", feeds.FeodoCSVColumns}} {
		out, errs, code := run("export", "--format", tc.format, "--db", db)
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != 0 || err != nil || strings.Join(recs[0], ",") != strings.Join(tc.header, ",") {
			t.Fatalf("%s: %d %s %v", tc.format, code, errs, recs)
		}
	}
	out, _, code := run("export", "--format", "report-bruteforce", "--db", db, "--since", "24h")
	if code != 0 || !strings.HasPrefix(out, "timestamp,protocol,src_ip") || !strings.Contains(out, "127.0.0.66") {
		t.Fatalf("report: %d %s", code, out)
	}
	out, _, _ = run("export", "--format", "cowrie", "--db", db)
	if !strings.Contains(out, `"eventid":"cowrie.login.success"`) {
		t.Fatalf("cowrie: %s", out)
	}
	dir := filepath.Join(t.TempDir(), "misp")
	if _, errs, code := run("export", "--format", "misp", "--db", db, "--out", dir); code != 0 {
		t.Fatalf("misp: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	if _, _, code := run("export", "--format", "nope", "--db", db); code != 2 {
		t.Fatalf("bad format exit %d", code)
	}
	out, errs, code := run("admin", "apikey", "create", "--db", db, "--name", "csirt", "--scopes", "check:any", "--prefixes", "127.0.0.0/24")
	if code != 0 || !strings.HasPrefix(out, "ks_") {
		t.Fatalf("apikey create: %d %s %s", code, out, errs)
	}
	if out, _, code := run("admin", "apikey", "create", "--db", db, "--scopes", "feeds:read"); code != 0 || !strings.HasPrefix(out, "ks_") {
		t.Fatal("apikey create without --name")
	}
	if _, _, code := run("admin", "apikey", "create", "--db", db, "--name", "x", "--scopes", "check:any"); code != 2 {
		t.Fatal("check:any without prefixes accepted")
	}
	out, _, code = run("check", "127.0.0.66", "--db", db)
	if code != 0 || !strings.Contains(out, "Likely infected") || !strings.Contains(out, "Telnet") {
		t.Fatalf("check: %d %s", code, out)
	}
	out, _, _ = run("check", "--lang", "ja", "--db", db, "127.0.0.99")
	if !strings.Contains(out, "観測なし") {
		t.Fatalf("check ja: %s", out)
	}
}
