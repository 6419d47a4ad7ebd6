// Command pipeline measures kansoku's event pipeline on this machine:
// events/s from a sensor's emitter (the disk spool) through embedded
// JetStream (acknowledged publishes, durable consumer, acks) into SQLite,
// the same rows inserted directly in batches for comparison, and how long
// `kansoku serve` takes to answer /healthz on an empty data directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/collector"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

func main() {
	n := flag.Int("events", 200000, "events per run")
	bin := flag.String("kansoku", "", "kansoku binary for the start-up measurement (built if empty)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the pipeline run here")
	driver := flag.String("store", "sqlite", "store driver: sqlite, or postgres (a throwaway server started from Debian's postgresql binaries)")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *bin, *driver); err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func mkEvents(n int) []*event.Event {
	evs := make([]*event.Event, n)
	src := netip.MustParseAddr("127.0.0.20")
	for i := range evs {
		e := event.New("telnet", "login.failed")
		e.Sensor, e.Session = "bench", fmt.Sprintf("S%d", i/10)
		e.SrcIP, e.SrcPort, e.DstPort, e.Transport = src, uint16(40000+i%1000), 2323, "tcp"
		e.SetText("username", "root").SetText("password", fmt.Sprintf("pw%d", i%50))
		evs[i] = e
	}
	return evs
}

// opener opens a fresh store of the chosen driver.
type opener func(ctx context.Context, name string) (store.Store, error)

func openerFor(driver, dir string) (opener, func(), error) {
	switch driver {
	case "sqlite":
		return func(ctx context.Context, name string) (store.Store, error) {
			return sqlite.Open(ctx, filepath.Join(dir, name+".db"))
		}, func() {}, nil
	case "postgres":
		srv, err := pgtest.Start()
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, _ string) (store.Store, error) {
			db, err := srv.CreateDatabase()
			if err != nil {
				return nil, err
			}
			return postgres.Open(ctx, srv.DSN(db))
		}, func() { srv.Stop() }, nil
	}
	return nil, nil, fmt.Errorf("unknown store driver %q", driver)
}

func run(n int, bin, driver string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kansoku-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	open, stop, err := openerFor(driver, dir)
	if err != nil {
		return err
	}
	defer stop()

	// Bare batched insert of the same rows.
	db, err := open(ctx, "bare")
	if err != nil {
		return err
	}
	evs := mkEvents(n)
	t0 := time.Now()
	for i := 0; i < n; i += 1000 {
		if _, err := db.InsertEvents(ctx, evs[i:min(i+1000, n)]); err != nil {
			return err
		}
	}
	bare := float64(n) / time.Since(t0).Seconds()
	db.Close()

	// Full pipeline.
	b, err := bus.Connect(ctx, bus.Options{DataDir: filepath.Join(dir, "bus")})
	if err != nil {
		return err
	}
	defer b.Close()
	sp, err := bus.OpenSpool(filepath.Join(dir, "spool"), b, bus.SpoolOptions{MaxBytes: 8 << 30})
	if err != nil {
		return err
	}
	st, err := open(ctx, "pipe")
	if err != nil {
		return err
	}
	defer st.Close()
	stored := make(chan int, 1024)
	coll := &collector.Collector{Bus: b, Store: st, Batch: 1000, Hooks: []collector.Hook{func(_ context.Context, evs []*event.Event) error {
		stored <- len(evs)
		return nil
	}}}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go sp.Run(cctx, time.Second)
	go coll.Run(cctx)
	evs = mkEvents(n)
	t0 = time.Now()
	go func() {
		for _, e := range evs {
			if err := sp.Emit(ctx, e); err != nil {
				fmt.Fprintln(os.Stderr, "emit:", err)
				os.Exit(1)
			}
		}
	}()
	got := 0
	for got < n {
		select {
		case k := <-stored:
			got += k
		case <-time.After(60 * time.Second):
			return fmt.Errorf("pipeline stalled at %d of %d", got, n)
		}
	}
	pipe := float64(n) / time.Since(t0).Seconds()
	fmt.Printf("events:                  %d (store: %s)\n", n, driver)
	fmt.Printf("bare batched insert:     %.0f events/s\n", bare)
	fmt.Printf("spool→JetStream→store:   %.0f events/s (acknowledged, stored)\n", pipe)
	fmt.Printf("ratio pipeline/bare:     %.2f\n", pipe/bare)

	ready, err := startup(bin, dir)
	if err != nil {
		return err
	}
	fmt.Printf("serve ready (/healthz):  %.0f ms on an empty data dir\n", ready.Seconds()*1000)
	return nil
}

// startup times `kansoku serve` from exec to the first 200 from /healthz.
func startup(bin, dir string) (time.Duration, error) {
	if bin == "" {
		bin = filepath.Join(dir, "kansoku")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/kansoku/kansoku/cmd/kansoku").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build: %v: %s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(dir, "serve.yaml")
	// Sensors on port 0 so the measurement never collides with a running kansoku.
	body := fmt.Sprintf("portal:\n  listen: %s\nsensors:\n", addr)
	for _, s := range []string{"banner", "telnet", "ssh"} {
		body += fmt.Sprintf("  %s:\n    listen: 127.0.0.1:0\n", s)
	}
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return 0, err
	}
	data := filepath.Join(dir, "serve-data")
	t0 := time.Now()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	for time.Since(t0) < 30*time.Second {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(t0), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("serve not ready in 30 s")
}
