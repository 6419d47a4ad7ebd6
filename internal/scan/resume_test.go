package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

func TestScanStopAndResume(t *testing.T) {
	ctx := context.Background()
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: netip.MustParsePrefix("127.21.0.0/16"), Count: 200, Seed: 5, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	cp := filepath.Join(t.TempDir(), "scan.checkpoint")
	cfg := scan.Config{
		Targets: []string{"127.21.0.0/24"}, Ports: []string{"21,22,23,80,443,502"},
		Rate: 3000, Concurrency: 64, Seed: 11, Checkpoint: cp, Timeout: 30 * time.Second, ConnectTimeout: 10 * time.Second,
	}

	// First run: interrupted (as by SIGINT) after a few results.
	var mu sync.Mutex
	seen := map[string]int{}
	record := func(r *scan.HostResult) {
		mu.Lock()
		seen[fmt.Sprintf("%s/%s", netip.AddrPortFrom(r.IP, r.Port), r.Transport)]++
		mu.Unlock()
	}
	runCtx, cancel := context.WithCancel(ctx)
	n := 0
	st1, err := scan.Run(runCtx, cfg, scan.SinkFunc(func(_ context.Context, r *scan.HostResult) error {
		record(r)
		mu.Lock()
		n++
		if n == 20 {
			cancel()
		}
		mu.Unlock()
		return nil
	}), nil)
	cancel()
	if !errors.Is(err, context.Canceled) || st1.Completed {
		t.Fatalf("first run: err %v, completed %v", err, st1.Completed)
	}
	saved, err := scan.LoadCheckpoint(cp)
	if err != nil || saved == nil || saved.Done || saved.Position == 0 {
		t.Fatalf("checkpoint after interrupt: %+v, %v", saved, err)
	}

	// Second run resumes and completes; together they cover everything.
	st2, err := scan.Run(ctx, cfg, scan.SinkFunc(func(_ context.Context, r *scan.HostResult) error {
		record(r)
		return nil
	}), nil)
	if err != nil || !st2.Completed {
		t.Fatalf("second run: %v %+v", err, st2)
	}
	if st1.Probes+st2.Probes >= 2*st2.Space || st2.Probes >= st2.Space {
		t.Errorf("resume did not skip the finished part: %d + %d probes of %d", st1.Probes, st2.Probes, st2.Space)
	}
	var got []string
	for k := range seen {
		got = append(got, k)
	}
	sort.Strings(got)
	var want []string
	for _, o := range farm.Open() {
		if netip.MustParsePrefix("127.21.0.0/24").Contains(netip.MustParseAddrPort(o[:len(o)-4]).Addr()) {
			want = append(want, o)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("stop+resume found %d ports, want %d:\n missing %v\n extra %v", len(got), len(want), diff(want, got), diff(got, want))
	}
	done, _ := scan.LoadCheckpoint(cp)
	if done == nil || !done.Done {
		t.Errorf("final checkpoint %+v", done)
	}

	// A checkpoint is never applied to another target space.
	saved.Done = false
	if err := saved.Save(cp); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Targets = []string{"127.21.1.0/24"}
	if _, err := scan.Run(ctx, other, scan.SinkFunc(func(context.Context, *scan.HostResult) error { return nil }), nil); !errors.Is(err, scan.ErrCheckpointMismatch) {
		t.Errorf("mismatched checkpoint: %v", err)
	}
}

func TestScanRateIsBounded(t *testing.T) {
	// Counts, not wall-clock: at 50 probes/s with a burst of 1, a 100 ms
	// window admits at most a handful of probes.
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recordingDialer{}
	cfg := scan.Config{Targets: []string{"127.22.0.0/16"}, Ports: []string{"9"}, Rate: 50, Seed: 3, Dialer: rec, ConnectTimeout: 1e8}
	done := make(chan scan.Stats)
	go func() {
		st, _ := scan.Run(ctx, cfg, scan.SinkFunc(func(context.Context, *scan.HostResult) error { return nil }), nil)
		done <- st
	}()
	for {
		rec.mu.Lock()
		n := len(rec.addrs)
		rec.mu.Unlock()
		if n >= 5 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	st := <-done
	// 5 probes took at least 4/50 s; the space is 65536, far from done.
	if st.Completed || st.Probes > uint64(st.Duration.Seconds()*50)+2 {
		t.Fatalf("rate exceeded: %d probes in %v", st.Probes, st.Duration)
	}
}

// cancelAfter is a buffering JSON-lines sink that interrupts the scan (as
// SIGINT would) after n results.
type cancelAfter struct {
	*scan.JSONLSink
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Put(ctx context.Context, r *scan.HostResult) error {
	c.mu.Lock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	c.mu.Unlock()
	return c.JSONLSink.Put(ctx, r)
}

// The JSON lines output is buffered; a scan that is interrupted and resumed
// still writes every open port to the file. (Probes that finished beyond the
// checkpoint's low-water mark are repeated on resume, so a port may appear
// twice, as with ZMap's resume.)
func TestBufferedOutputAcrossResume(t *testing.T) {
	ctx := context.Background()
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: netip.MustParsePrefix("127.23.0.0/16"), Count: 200, Seed: 6, NoUDP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	dir := t.TempDir()
	cfg := scan.Config{
		Targets: []string{"127.23.0.0/24"}, Ports: []string{"21,22,23,80,443,502"}, Modules: []string{"none"},
		Rate: 3000, Concurrency: 64, Seed: 12, Checkpoint: filepath.Join(dir, "cp"), ConnectTimeout: 10 * time.Second,
	}
	out, err := os.Create(filepath.Join(dir, "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := scan.Run(runCtx, cfg, &cancelAfter{JSONLSink: scan.NewJSONLSink(out), n: 15, cancel: cancel}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	if st, err := scan.Run(ctx, cfg, scan.NewJSONLSink(out), nil); err != nil || !st.Completed {
		t.Fatalf("second run: %v %+v", err, st)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		count[fmt.Sprintf("%s:%d/tcp", r.IP, r.Port)]++
	}
	var want []string
	for _, o := range farm.Open() {
		if netip.MustParsePrefix("127.23.0.0/24").Contains(netip.MustParseAddrPort(o[:len(o)-4]).Addr()) && strings.HasSuffix(o, "/tcp") {
			want = append(want, o)
		}
	}
	var got []string
	for k := range count {
		got = append(got, k)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("file holds %d ports, want %d:\n missing %v\n extra %v", len(got), len(want), diff(want, got), diff(got, want))
	}
}
