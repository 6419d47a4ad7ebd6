// Package collector is the only writer of events: it takes batches from the
// bus, enriches them (country, ASN), stores them idempotently, writes the
// JSON-lines output, and hands the new events to the after-store hooks
// (alerts, analysis queue). A batch is acknowledged only once stored.
package collector

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/eventlog"
	"github.com/kansoku/kansoku/internal/geoip"
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/kansoku/kansoku/internal/store"
)

// Hook sees each batch of newly stored events. It must not block for long;
// an error is logged, never retried, because the events are stored.
type Hook func(ctx context.Context, evs []*event.Event) error

// Collector consumes the event stream into the store.
type Collector struct {
	Bus    *bus.Bus
	Store  store.Store
	GeoIP  *geoip.DB
	JSONL  *eventlog.Writer
	Logger *slog.Logger
	Batch  int
	Hooks  []Hook
	// Durable is the consumer name; collectors sharing it share the work.
	Durable string
}

// Run consumes until ctx is done; the batch in hand is finished first.
func (c *Collector) Run(ctx context.Context) error {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Durable == "" {
		c.Durable = "collector"
	}
	return c.Bus.ConsumeEvents(ctx, bus.ConsumeOptions{Durable: c.Durable, Batch: c.Batch, EnsureStreams: true}, c.Handle)
}

// Handle stores one batch; exported for tests and benchmarks.
func (c *Collector) Handle(ctx context.Context, ds []bus.Delivery) error {
	evs := make([]*event.Event, 0, len(ds))
	for _, d := range ds {
		if d.Bad != nil {
			mBad.Inc()
			c.Logger.Warn("dropping malformed message", "err", d.Bad, "bytes", len(d.Raw))
			continue
		}
		c.enrich(d.Event)
		evs = append(evs, d.Event)
	}
	start := time.Now()
	fresh, err := c.Store.InsertEvents(ctx, evs)
	mWrite.Observe(time.Since(start).Seconds())
	if err != nil {
		mErrors.Inc()
		metrics.Process.Set("store", "write failed: "+err.Error())
		c.Logger.Error("store write failed; batch will be redelivered", "err", err, "events", len(evs))
		return err
	}
	if was, lasted := metrics.Process.Clear("store"); was {
		c.Logger.Info("store writes again", "after", lasted.Round(time.Millisecond))
	}
	for _, e := range fresh {
		mEvents.WithLabelValues(e.Honeypot, e.Kind).Inc()
	}
	mDuplicates.Add(float64(len(evs) - len(fresh)))
	if c.JSONL != nil && len(fresh) > 0 {
		if err := c.JSONL.Write(fresh); err != nil {
			c.Logger.Error("jsonl output failed", "err", err)
		}
	}
	for _, h := range c.Hooks {
		if len(fresh) == 0 {
			break
		}
		if err := h(ctx, fresh); err != nil {
			c.Logger.Warn("after-store hook failed", "err", err)
		}
	}
	return nil
}

func (c *Collector) enrich(e *event.Event) {
	if !c.GeoIP.Enabled() {
		return
	}
	if e.SrcIP.IsValid() {
		c.geo(e, "src", e.SrcIP)
	}
	// Addresses an attacker names (the peers of an eclipse attempt) are
	// placed the same way.
	if s := e.Str("enode_ip"); s != "" {
		if ip, err := netip.ParseAddr(s); err == nil {
			c.geo(e, "enode", ip)
		}
	}
}

// geo sets <prefix>_country, _asn and _as_org unless already set.
func (c *Collector) geo(e *event.Event, prefix string, ip netip.Addr) {
	if _, done := e.Data[prefix+"_country"]; done {
		return
	}
	info := c.GeoIP.Lookup(ip)
	if info.Country != "" {
		e.Set(prefix+"_country", info.Country)
	}
	if info.ASN != 0 {
		e.Set(prefix+"_asn", info.ASN)
		if info.ASOrg != "" {
			e.Set(prefix+"_as_org", info.ASOrg)
		}
	}
}
