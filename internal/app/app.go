// Package app assembles kansoku's parts from a configuration: the bus, the
// spool, the store, sensors, the collector and the portal. `serve` runs them
// all in one process; `sensor`, `collector` and `portal` run one each and
// meet on the bus. The CLI only parses flags and calls in here.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	_ "github.com/kansoku/kansoku/internal/sensor/all" // every compiled-in sensor
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// Logger builds the process logger from the config.
func Logger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// prepareDataDir creates the data directory and proves it is writable, so a
// read-only or full disk is a clear error at start, not a hang later.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	probe := filepath.Join(dir, ".write-test")
	if err := os.WriteFile(probe, []byte("ok"), 0o600); err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	return os.Remove(probe)
}

// Seed returns the installation's random seed, creating it once.
func Seed(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, "install.seed")
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b[:32], nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("install seed: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("install seed: %w", err)
	}
	return b, nil
}

func connectBus(ctx context.Context, cfg *config.Config, name string, logger *slog.Logger) (*bus.Bus, error) {
	return bus.Connect(ctx, bus.Options{URL: cfg.Bus.URL, Listen: cfg.Bus.Listen, DataDir: cfg.DataDir,
		Replicas: cfg.Bus.Replicas, Name: name, Logger: logger,
		Samples: bus.SampleLimits{MaxBytes: cfg.Bus.Samples.MaxBytes, BudgetBytes: cfg.Bus.Samples.BudgetBytes, Policy: cfg.Bus.Samples.Policy}})
}

// spoolOptions are the spool's settings from the config.
func spoolOptions(cfg *config.Config, logger *slog.Logger) bus.SpoolOptions {
	fsync, _ := cfg.Bus.SpoolFsyncInterval()
	return bus.SpoolOptions{MaxBytes: cfg.Bus.SpoolMaxBytes, Fsync: fsync, SampleMaxBytes: cfg.Bus.Samples.MaxBytes, Logger: logger}
}

// checkStreams compares the streams with this process's configuration once
// the bus is reachable. The collector owns them and creates what is
// missing; every other process only warns, so that one process started
// with a default setting never changes a site's streams.
func checkStreams(ctx context.Context, b *bus.Bus, owner bool, logger *slog.Logger) {
	for ctx.Err() == nil {
		var diffs []string
		var err error
		if owner {
			diffs, err = b.Ensure(ctx)
		} else {
			diffs, err = b.Check(ctx)
		}
		if err == nil {
			for _, d := range diffs {
				logger.Warn("bus configuration differs; run 'kansoku bus init' with the site's configuration to change it", "what", d)
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-b.Connected():
		case <-time.After(5 * time.Second):
		}
	}
}

func openStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	switch cfg.Store.Driver {
	case "sqlite":
		dsn := cfg.Store.DSN
		if dsn == "" {
			dsn = filepath.Join(cfg.DataDir, "kansoku.db")
		}
		return sqlite.Open(ctx, dsn)
	case "postgres":
		return postgres.Open(ctx, cfg.Store.DSN)
	}
	return nil, fmt.Errorf("store: driver %q not available", cfg.Store.Driver)
}

// Listener is one bound socket, for the table `serve` prints.
type Listener struct {
	Part, Name, Transport, Addr string
}

// sensors builds and binds every enabled sensor; nothing is left bound if
// any fails.
func sensors(ctx context.Context, cfg *config.Config, em sensor.Emitter, seed []byte, logger *slog.Logger) ([]*sensor.Runner, error) {
	insts, err := cfg.EnabledSensors()
	if err != nil {
		return nil, err
	}
	ccfg := capture.DefaultConfig()
	if err := cfg.Section("capture", &ccfg); err != nil {
		return nil, err
	}
	if err := ccfg.Validate(); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	fetcher := capture.New(ccfg, logger.With("part", "fetcher"))
	var runners []*sensor.Runner
	fail := func(err error) ([]*sensor.Runner, error) {
		for _, r := range runners {
			closeRunner(r)
		}
		return nil, err
	}
	// One services map for every instance of this run: sensors keep state
	// their instances share there (the amp budgets), so a second run in the
	// same process starts afresh.
	services := map[string]any{"fetcher": fetcher}
	for _, in := range insts {
		dir := filepath.Join(cfg.DataDir, "sensors", in.Name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fail(fmt.Errorf("sensor %s: %w", in.Name, err))
		}
		env := sensor.Env{Name: in.Name, SensorName: cfg.SensorName, DataDir: dir, Emitter: em,
			Logger: logger.With("sensor", in.Name), Seed: seed, Services: services}
		s, err := in.Factory.New(env, in.Decode)
		if err != nil {
			return fail(fmt.Errorf("sensor %s: %w", in.Name, err))
		}
		r := &sensor.Runner{Name: in.Name, Factory: in.Factory, Sensor: s, Limits: in.Limits, Env: env}
		if err := r.Listen(ctx, in.Listen); err != nil {
			if c, ok := s.(sensor.Closer); ok {
				c.Close()
			}
			return fail(err)
		}
		runners = append(runners, r)
	}
	return runners, nil
}

// closeRunner releases a runner that was bound but never served.
func closeRunner(r *sensor.Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = r.Serve(ctx)
}

func listenTCP(ctx context.Context, part, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen tcp/%s: %w", part, addr, err)
	}
	return ln, nil
}

func trustedProxies(cfg *config.Config) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range cfg.Portal.TrustedProxies {
		if pf, err := config.ParsePrefix(p); err == nil {
			out = append(out, pf)
		}
	}
	return out
}

// PrintTable writes what listens where.
func PrintTable(w io.Writer, ls []Listener) {
	fmt.Fprintf(w, "%-10s %-14s %-5s %s\n", "PART", "NAME", "PROTO", "ADDRESS")
	for _, l := range ls {
		fmt.Fprintf(w, "%-10s %-14s %-5s %s\n", l.Part, l.Name, l.Transport, l.Addr)
	}
}

func runnerListeners(rs []*sensor.Runner) []Listener {
	var out []Listener
	for _, r := range rs {
		out = append(out, Listener{Part: "sensor", Name: r.Name, Transport: r.Factory.Transport, Addr: r.Addr().String()})
	}
	return out
}

// waitCaughtUp waits until the collector's consumer has nothing pending, so
// a clean shutdown stores every event the sensors emitted.
func waitCaughtUp(ctx context.Context, b *bus.Bus, durable string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := b.JS.Consumer(ctx, bus.EventsStream, durable)
		if err == nil {
			if info, err := c.Info(ctx); err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				return
			}
		} else if strings.Contains(err.Error(), "not found") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// loadProfiles returns the built-in device profiles plus those in dir.
func loadProfiles(dir string) ([]*profile.Profile, error) {
	ps := profile.Defaults()
	if dir == "" {
		return ps, nil
	}
	more, err := profile.Load(dir)
	if err != nil {
		return ps, err
	}
	return append(more, ps...), nil
}

// BusInit applies this configuration's streams and buckets to the bus at
// bus.url (`kansoku bus init`): the one way to change a site's replicas or
// sample budget after the collector has created them.
func BusInit(ctx context.Context, cfg *config.Config, out io.Writer) error {
	if cfg.Bus.URL == "" {
		return errors.New("bus init needs bus.url (or --bus): the NATS server or cluster to configure")
	}
	b, err := connectBus(ctx, cfg, "kansoku bus init", slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer b.Close()
	wait, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for !b.NC.IsConnected() {
		select {
		case <-wait.Done():
			return fmt.Errorf("bus init: cannot reach %s", cfg.Bus.URL)
		case <-b.Connected():
		}
	}
	before, err := b.Check(ctx)
	if err != nil {
		return err
	}
	if err := b.Apply(ctx); err != nil {
		return err
	}
	for _, d := range before {
		fmt.Fprintf(out, "changed: %s\n", d)
	}
	after, err := b.Check(ctx)
	if err != nil {
		return err
	}
	for _, d := range after {
		fmt.Fprintf(out, "still differs: %s\n", d)
	}
	fmt.Fprintf(out, "bus %s: streams %s, %s and buckets %s, %s, %s at %d replicas; server max_payload %d bytes\n", b.NC.ConnectedUrlRedacted(),
		bus.EventsStream, bus.JobsStream, bus.SamplesBucket, bus.RecordingsBucket, bus.BodiesBucket, cfg.Bus.Replicas, b.MaxPayload())
	if len(after) > 0 {
		return errors.New("bus init: some settings could not be applied (listed above)")
	}
	return nil
}
