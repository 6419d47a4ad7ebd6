package worker_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/analysis"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/feeds"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/worker"
)

// buildMirai cross-compiles the simulated Mirai of the sandbox's tests.
func buildMirai(t *testing.T, goarch string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "mirai")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = filepath.Join("..", "sandbox", "testdata", "samples", "mirai")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "GOMIPS=softfloat", "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMiraiIndicators is issue 11's chain on the simulated Mirai: run as
// the session ran it (from its path, /var/dvrHelper), the report names
// the real C2 and port from the decoded table, set against what the run
// contacted; run under another name, the decoy it contacts is marked and
// kept out of the store's public lists and every feed; the credential
// table is listed; no URL that only sits in its strings reaches a feed.
func TestMiraiIndicators(t *testing.T) {
	if err := sandbox.Available(); err != nil {
		t.Skip(err)
	}
	data := buildMirai(t, "mipsle")
	cfg := worker.DefaultConfig()
	cfg.Timeout, cfg.Reboot = 20*time.Second, false
	dev := func(arch string) sandbox.Device { return sandbox.Device{Arch: arch} }
	ctx := context.Background()

	real, err := worker.AnalyzeExec(ctx, data, cfg, dev, worker.ExecFor("/var/dvrHelper"), nil)
	if err != nil {
		t.Fatal(err)
	}
	decoy, err := worker.AnalyzeExec(ctx, data, cfg, dev, worker.Exec{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := real.Static
	if st.MiraiTable == nil || len(st.MiraiTable.Servers) != 2 || st.MiraiTable.Servers[0] != (analysis.ConfigServer{Host: "cnc.bot-test.invalid", Port: 23, Role: "cnc"}) ||
		st.MiraiTable.Servers[1] != (analysis.ConfigServer{Host: "report.bot-test.invalid", Port: 48101, Role: "report"}) {
		t.Fatalf("decoded table %+v", st.MiraiTable)
	}
	if ct := st.CredentialTable; ct == nil || len(ct.Pairs) != 9 || ct.Pairs[0] != (analysis.Credential{User: "root", Password: "xc3511"}) ||
		!slices.Contains(ct.Pairs, analysis.Credential{User: "root", Password: ""}) || !slices.Contains(ct.Pairs, analysis.Credential{User: "admin", Password: "7ujMko0admin"}) {
		t.Errorf("credential table %+v", st.CredentialTable)
	}
	if !slices.Contains(st.IOCs.URLs, "https://youtu.be/dQw4w9WgXcQ") {
		t.Errorf("strings lack the strings-only URL the test relies on: %v", st.IOCs.URLs)
	}
	want := []intel.Indicator{
		{Kind: "c2", Value: "cnc.bot-test.invalid", Port: 23, Role: "cnc", Observed: intel.ObservedConfigContacted, Confidence: 90, Publish: true},
		{Kind: "c2", Value: "report.bot-test.invalid", Port: 48101, Role: "report", Observed: intel.ObservedConfig, Confidence: 75, Publish: true},
	}
	for name, rep := range map[string]*analysis.Report{"as the session ran it": real, "under another name": decoy} {
		var got []intel.Indicator
		for _, in := range rep.Indicators.Indicators {
			in.Reason = ""
			got = append(got, in)
		}
		w := want
		if rep == decoy {
			w = []intel.Indicator{want[0], want[1]}
			w[0].Observed, w[0].Confidence = intel.ObservedConfig, 75
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: indicators\n got %+v\nwant %+v", name, got, w)
		}
	}
	if len(real.Indicators.Decoys) != 0 {
		t.Errorf("decoys in the real run: %+v", real.Indicators.Decoys)
	}
	if d := decoy.Indicators.Decoys; len(d) != 1 || d[0].Dst != "65.222.202.53:80" {
		t.Errorf("decoys %+v", d)
	}

	// Through the store into the feeds.
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &worker.Worker{Config: cfg, Name: "w1"}
	var evs []*event.Event
	for _, x := range []worker.Exec{worker.ExecFor("/var/dvrHelper"), {}} {
		e := w.AnalyzeExec(ctx, data, "", x)
		evs = append(evs, e)
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	c2s, err := db.C2s(ctx, store.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, c := range c2s {
		hosts = append(hosts, c.Host+":"+strconv.Itoa(int(c.Port))+" "+c.Observed)
	}
	if strings.Join(hosts, ", ") != "cnc.bot-test.invalid:23 config-decoded+contacted, report.bot-test.invalid:48101 config-decoded" {
		t.Errorf("public c2s: %v", hosts)
	}
	urls, _ := db.URLs(ctx, store.ListQuery{})
	pending, _ := db.URLs(ctx, store.ListQuery{Review: store.ReviewPending})
	if len(urls) != 0 || len(pending) != 0 {
		t.Errorf("urls %+v pending %+v: the sample fetched none", urls, pending)
	}
	o := feeds.Options{Seed: "t", Online: time.Hour, Now: time.Now()}
	var b bytes.Buffer
	feeds.WriteFeodoCSV(&b, c2s, o)
	feeds.WriteThreatFoxCSV(&b, c2s, urls, nil, nil, o)
	feeds.WriteURLhausCSV(&b, urls, nil, o)
	feeds.WriteSTIX(&b, feeds.BuildSTIX(urls, c2s, nil, nil, o))
	out := b.String()
	for _, bad := range []string{"65.222.202.53", "8.8.8.8", "youtu.be", "debian.org", "198.18."} {
		if strings.Contains(out, bad) {
			t.Errorf("a feed lists %s", bad)
		}
	}
	if !strings.Contains(out, "cnc.bot-test.invalid") || !strings.Contains(out, "observed:config-decoded+contacted") {
		t.Errorf("feeds lack the C2 and how it was observed:\n%s", out)
	}
}
