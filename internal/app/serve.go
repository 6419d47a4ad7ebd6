package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/collector"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/eventlog"
	"github.com/kansoku/kansoku/internal/export/cowrie"
	"github.com/kansoku/kansoku/internal/geoip"
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/web"
	"github.com/kansoku/kansoku/internal/worker"
)

// Parts selects what a process runs.
type Parts struct {
	Sensors, Collector, Portal, Workers bool
}

// All is `kansoku serve`.
var All = Parts{Sensors: true, Collector: true, Portal: true, Workers: true}

// Options are process-level settings from flags.
type Options struct {
	Parts Parts
	// Out receives the listening table; Log the process log.
	Out, Log io.Writer
	// EventsJSONL overrides collector.jsonl.path.
	EventsJSONL string
	// Ready is called once everything listens (tests use it).
	Ready func(ls []Listener)
	// Hooks run after each stored batch (alerts, analysis queue).
	Hooks []collector.Hook
}

// Run runs the selected parts until ctx is done, then shuts down in order:
// sensors stop accepting and finish their sessions, the spool forwards what
// they emitted, the collector stores all of it, then the rest closes.
func Run(ctx context.Context, cfg *config.Config, o Options) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	logger := Logger(cfg, o.Log)
	if err := prepareDataDir(cfg.DataDir); err != nil {
		return err
	}
	if (o.Parts.Sensors || o.Parts.Workers) && !o.Parts.Collector && cfg.Bus.URL == "" {
		return errors.New("a sensor or worker process needs bus.url (the NATS server its collector uses)")
	}
	wcfg := worker.DefaultConfig()
	if err := cfg.LoadSection("analysis", &wcfg); err != nil {
		return err
	}
	if o.Parts == All && wcfg.Workers == 0 {
		o.Parts.Workers = false
	}
	if !o.Parts.Sensors && cfg.Bus.URL == "" && !o.Parts.Collector {
		return errors.New("a portal-only process needs bus.url")
	}
	b, err := connectBus(ctx, cfg, "kansoku "+cfg.SensorName, logger.With("part", "bus"))
	if err != nil {
		return err
	}
	defer b.Close()

	var listeners []Listener
	if u := b.ClientURL(); u != "" {
		listeners = append(listeners, Listener{Part: "bus", Name: "nats", Transport: "tcp", Addr: u})
	}
	var wg sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	if cfg.Metrics.Listen != "" {
		ln, err := listenTCP(ctx, "metrics", cfg.Metrics.Listen)
		if err != nil {
			return err
		}
		listeners = append(listeners, Listener{Part: "metrics", Name: "http", Transport: "tcp", Addr: "http://" + ln.Addr().String()})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := metrics.Serve(bgCtx, ln); err != nil {
				logger.Error("metrics listener stopped", "err", err)
			}
		}()
	}
	if !b.Embedded() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checkStreams(bgCtx, b, o.Parts.Collector, logger.With("part", "bus"))
		}()
	}
	var (
		spool   *bus.Spool
		runners []*sensor.Runner
	)
	sensorCtx, stopSensors := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSensors()
	spoolCtx, stopSpool := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSpool()
	var spoolDone chan struct{}
	if o.Parts.Sensors || o.Parts.Workers {
		spool, err = bus.OpenSpool(filepath.Join(cfg.DataDir, "spool"), b, spoolOptions(cfg, logger.With("part", "spool")))
		if err != nil {
			return err
		}
		defer spool.Close()
	}
	if o.Parts.Sensors {
		seed, err := Seed(cfg.DataDir)
		if err != nil {
			return err
		}
		runners, err = sensors(ctx, cfg, spool, seed, logger)
		if err != nil {
			return err
		}
		listeners = append(listeners, runnerListeners(runners)...)
	}

	var st interface{ Close() error }
	var coll *collector.Collector
	collCtx, stopCollector := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCollector()
	var portal *web.Server
	portalCtx, stopPortal := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPortal()
	alertCtx, stopAlerts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAlerts()
	portalAddr := ""
	var disp *alert.Dispatcher
	if o.Parts.Collector || o.Parts.Portal {
		s, err := openStore(ctx, cfg)
		if err != nil {
			closeAll(runners)
			return err
		}
		st = s
		defer st.Close()
		if o.Parts.Collector {
			geo, err := geoip.Open(cfg.GeoIP.Country, cfg.GeoIP.ASN)
			if err != nil {
				closeAll(runners)
				return err
			}
			defer geo.Close()
			var alertHook collector.Hook
			var digest *alert.DigestScheduler
			disp, alertHook, digest, err = alerts(cfg, s, logger.With("part", "alerts"))
			if err != nil {
				closeAll(runners)
				return err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := disp.Run(alertCtx); err != nil {
					logger.Error("alerts stopped", "err", err)
				}
			}()
			if digest != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := digest.Run(alertCtx); err != nil {
						logger.Error("daily digest stopped", "err", err)
					}
				}()
			}
			if !o.Parts.Portal || cfg.Portal.Listen == "" {
				// No portal in this process tells the dispatcher what the
				// admins changed: read it from the store.
				wg.Add(1)
				go func() {
					defer wg.Done()
					syncSubscriptions(alertCtx, s, disp, subscriptionSync, logger.With("part", "alerts"))
				}()
			}
			hooks := append([]collector.Hook{worker.EnqueueHook(b, s), alertHook}, o.Hooks...)
			coll = &collector.Collector{Bus: b, Store: s, GeoIP: geo, Logger: logger.With("part", "collector"), Batch: cfg.Collector.BatchSize, Hooks: hooks}
			jl := cfg.Collector.JSONL
			if o.EventsJSONL != "" {
				jl.Path = o.EventsJSONL
			}
			if jl.Path != "" {
				format := eventlog.Native
				if jl.Format == "cowrie" {
					format = func(e *event.Event) (any, bool) { return cowrie.Convert(e) }
				}
				w, err := eventlog.Open(jl.Path, jl.MaxBytes, jl.Keep, format)
				if err != nil {
					closeAll(runners)
					return err
				}
				defer w.Close()
				coll.JSONL = w
			}
		}
		if o.Parts.Portal && cfg.Portal.Listen != "" {
			// disp is nil in a portal-only process: see portalOptions.
			portal, err = web.New(portalOptions(cfg, s, b, disp, logger.With("part", "portal")))
			if err != nil {
				closeAll(runners)
				return err
			}
			ln, err := listenTCP(ctx, "portal", cfg.Portal.Listen)
			if err != nil {
				closeAll(runners)
				return err
			}
			portalAddr = ln.Addr().String()
			listeners = append(listeners, Listener{Part: "portal", Name: "http", Transport: "tcp", Addr: "http://" + portalAddr})
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := portal.Run(portalCtx, ln); err != nil {
					logger.Error("portal stopped", "err", err)
				}
			}()
		}
	}

	// Everything is bound: start serving.
	if spool != nil {
		spoolDone = make(chan struct{})
		go func() { defer close(spoolDone); spool.Run(spoolCtx, 15*time.Second) }()
	}
	var sensorsWG sync.WaitGroup
	for _, r := range runners {
		sensorsWG.Add(1)
		go func(r *sensor.Runner) {
			defer sensorsWG.Done()
			if err := r.Serve(sensorCtx); err != nil {
				logger.Error("sensor stopped", "sensor", r.Name, "err", err)
			}
		}(r)
	}
	workCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	workDone := make(chan struct{})
	if o.Parts.Workers {
		profiles, err := loadProfiles(wcfg.ProfilesDir)
		if err != nil {
			logger.Warn("analysis profiles", "err", err)
		}
		w := &worker.Worker{Bus: b, Emitter: spool, Config: wcfg, Name: cfg.SensorName, Logger: logger.With("part", "worker"), Profiles: profiles}
		listeners = append(listeners, Listener{Part: "worker", Name: "analysis", Transport: "-", Addr: fmt.Sprintf("%d parallel", max(wcfg.Workers, 1))})
		go func() {
			defer close(workDone)
			if err := w.Run(workCtx); err != nil {
				logger.Error("worker stopped", "err", err)
			}
		}()
	} else {
		close(workDone)
	}
	scanCtx, stopScans := context.WithCancel(context.WithoutCancel(ctx))
	defer stopScans()
	scanDone := make(chan struct{})
	if sc, ok, err := scanConfig(cfg); err != nil {
		return err
	} else if ok && o.Parts.Sensors && spool != nil {
		listeners = append(listeners, Listener{Part: "scanner", Name: "scan", Transport: "-", Addr: fmt.Sprintf("%d targets, every %s", len(sc.Targets), sc.Interval)})
		go func() {
			defer close(scanDone)
			runScans(scanCtx, sc, ScanSink(spool, cfg.SensorName), logger.With("part", "scan"))
		}()
	} else {
		close(scanDone)
	}
	collDone := make(chan struct{})
	if coll != nil {
		go func() {
			defer close(collDone)
			if err := coll.Run(collCtx); err != nil {
				logger.Error("collector stopped", "err", err)
			}
		}()
	} else {
		close(collDone)
	}
	PrintTable(o.Out, listeners)
	logger.Info("kansoku running", "sensors", len(runners), "collector", coll != nil, "portal", portalAddr, "workers", o.Parts.Workers)
	if o.Ready != nil {
		o.Ready(listeners)
	}

	<-ctx.Done()
	logger.Info("shutting down")
	stopSensors()
	stopScans()
	sensorsWG.Wait()
	<-scanDone
	stopWorkers()
	<-workDone
	if spool != nil {
		stopSpool()
		<-spoolDone
		if st := spool.Stats(); st.PendingEvents > 0 {
			logger.Warn("events left in the spool for the next start", "events", st.PendingEvents, "bytes", st.PendingBytes)
		}
	}
	if coll != nil {
		waitCaughtUp(context.Background(), b, coll.Durable, 15*time.Second)
	}
	stopCollector()
	<-collDone
	stopAlerts()
	stopPortal()
	stopBackground()
	wg.Wait()
	logger.Info("stopped")
	return nil
}

func closeAll(rs []*sensor.Runner) {
	for _, r := range rs {
		closeRunner(r)
	}
}

// Summary is a short description of the parts, for messages.
func (p Parts) String() string {
	return fmt.Sprintf("sensors=%v collector=%v portal=%v", p.Sensors, p.Collector, p.Portal)
}
