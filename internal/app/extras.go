package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/collector"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/scan"
	_ "github.com/kansoku/kansoku/internal/scan/modules/all" // every grab module
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/web"
)

// ScanSink turns scanner results into scan.result events, so scans inside
// serve (or any process with a spool) land in the hosts table through the
// collector like every other observation.
func ScanSink(em sensor.Emitter, sensorName string) scan.Sink {
	return scan.SinkFunc(func(ctx context.Context, r *scan.HostResult) error {
		e := event.New("scan", "scan.result")
		e.Time = r.Time.UTC()
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		e.Sensor = sensorName
		e.DstIP, e.DstPort, e.Transport = r.IP, r.Port, r.Transport
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		delete(m, "ip")
		delete(m, "port")
		delete(m, "time")
		e.Data = m
		return em.Emit(ctx, e)
	})
}

// scanConfig reads the `scan:` section; ok is false when no targets are
// configured (no scheduled scans).
func scanConfig(cfg *config.Config) (scan.Config, bool, error) {
	var sc scan.Config
	if err := cfg.Section("scan", &sc); err != nil {
		return sc, false, err
	}
	if len(sc.Targets) == 0 {
		return sc, false, nil
	}
	sc = sc.WithDefaults()
	if sc.Checkpoint == "" {
		sc.Checkpoint = cfg.Path("scan.checkpoint")
	}
	return sc, true, sc.Validate()
}

// runScans scans now and then every interval until ctx is done.
func runScans(ctx context.Context, sc scan.Config, sink scan.Sink, logger *slog.Logger) {
	for {
		st, err := scan.Run(ctx, sc, sink, logger)
		if err != nil && ctx.Err() == nil {
			logger.Error("scan failed", "err", err)
		} else {
			logger.Info("scan finished", "open", st.Open, "results", st.Results, "completed", st.Completed)
		}
		if sc.Interval <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(sc.Interval):
		}
	}
}

// alerts builds the dispatcher from the `alerts:` section, the collector
// hook that feeds it every newly stored event, and the daily digest
// scheduler on st (nil when alerts.digest is off).
func alerts(cfg *config.Config, st store.Store, logger *slog.Logger) (*alert.Dispatcher, collector.Hook, *alert.DigestScheduler, error) {
	ac := alert.DefaultConfig()
	if err := cfg.Section("alerts", &ac); err != nil {
		return nil, nil, nil, err
	}
	if err := ac.Validate(); err != nil {
		return nil, nil, nil, err
	}
	d, err := alert.NewDispatcher(ac, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	var digest *alert.DigestScheduler
	if ac.Digest {
		digest = &alert.DigestScheduler{D: d, Events: storeEvents(st), Hour: ac.DigestHour,
			StatePath: filepath.Join(cfg.DataDir, "alerts", "digest.last"), Logger: logger.With("digest", true)}
	}
	return d, func(ctx context.Context, evs []*event.Event) error {
		for _, e := range evs {
			d.Handle(ctx, e, uint32(e.Int("src_asn")))
		}
		return nil
	}, digest, nil
}

// storeEvents reads stored events oldest first, a page at a time.
func storeEvents(st store.Store) alert.EventSource {
	return func(ctx context.Context, since, until time.Time, fn func(*event.Event) error) error {
		q := store.EventQuery{Since: since, Until: until, Ascending: true, Limit: 1000}
		for {
			page, err := st.Events(ctx, q)
			if err != nil {
				return err
			}
			for _, e := range page.Events {
				if err := fn(e); err != nil {
					return err
				}
			}
			if page.Next == "" || len(page.Events) == 0 {
				return nil
			}
			q.After = page.Next
		}
	}
}

// subscriptionSync is how often a collector without a portal in its process
// rereads the subscriptions the admin pages keep in the store.
const subscriptionSync = 30 * time.Second

// syncSubscriptions hands the stored subscriptions to d now and then every
// interval until ctx is done, so changes made on a portal in another process
// reach the collector that sends the alerts.
func syncSubscriptions(ctx context.Context, st store.Store, d *alert.Dispatcher, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		bodies, err := st.SubscriptionBodies(ctx)
		if err == nil {
			var subs []alert.Subscription
			if subs, err = alert.DecodeStored(bodies); err == nil {
				d.SetSubscriptions(subs)
			}
		}
		if err != nil && ctx.Err() == nil {
			logger.Warn("stored subscriptions not read", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// portalOptions are the portal's settings. disp is the dispatcher of the
// collector in the same process (serve), whose subscriptions the admin pages
// manage and whose dead letters they show. A portal running alone has none:
// a dispatcher of its own would see no events, so it would send nothing and
// its dead-letter list would always be empty. Its admin pages still store
// subscriptions, and the collector rereads them (syncSubscriptions).
func portalOptions(cfg *config.Config, st store.Store, b *bus.Bus, disp *alert.Dispatcher, logger *slog.Logger) web.Options {
	metrics := cfg.Portal.Metrics
	return web.Options{Store: st, Bus: b, Logger: logger, TrustedProxies: trustedProxies(cfg), CheckWindow: cfg.Portal.CheckWindow,
		CheckPerMinute: cfg.Portal.CheckPerMinute, FeedSeed: cfg.Portal.FeedSeed, BaseURL: strings.TrimRight(cfg.Portal.BaseURL, "/"), Alerts: disp,
		Metrics: metrics}
}
