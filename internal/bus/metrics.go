package bus

import (
	"sync/atomic"
	"time"

	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// activeSpool is the process's spool, for the gauges computed on scrape.
var activeSpool atomic.Pointer[Spool]

var (
	mSpooled = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_spooled_total", Help: "Events written to the local spool."})
	mForwarded = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_forwarded_total", Help: "Events acknowledged by JetStream."})
	mSpoolDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_dropped_total", Help: "Events refused by the spool, by reason (full, write_error, too_large, closed)."}, []string{"reason"})
	mParked = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_parked_total", Help: "Events the bus refused for good, set aside in spool/parked."})
	mOffloaded = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_offloaded_total", Help: "Events larger than max_payload sent as a reference to the event-bodies bucket."})
	mSamplesDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "samples_dropped_total", Help: "Samples and recordings not kept, by reason."}, []string{"reason"})
	mSamplesEvicted = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "samples_evicted_total", Help: "Old samples deleted to keep the samples bucket within its budget."})
	mSpoolBytes = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "spool_bytes", Help: "Bytes of events in the spool not yet acknowledged by the bus."})
	mSpoolEvents = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "spool_events", Help: "Events in the spool not yet acknowledged by the bus."})
	mSpoolAge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "spool_oldest_seconds", Help: "Age of the oldest event waiting in the spool (0 when empty)."}, func() float64 {
		s := activeSpool.Load()
		if s == nil {
			return 0
		}
		if st := s.Stats(); !st.Oldest.IsZero() {
			return time.Since(st.Oldest).Seconds()
		}
		return 0
	})
	mLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "consumer_pending", Help: "Messages waiting for a consumer or unacknowledged by it (bus lag)."}, []string{"consumer"})
	mRecreated = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "consumer_recreated_total", Help: "Times a consumer was recreated because it stalled or vanished, by consumer and reason."}, []string{"consumer", "reason"})
	mBodyFetched = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "event_bodies_fetched_total", Help: "Large event bodies fetched from the event-bodies bucket by consumers."})
)

func init() {
	metrics.Registry.MustRegister(mSpooled, mForwarded, mSpoolDropped, mParked, mOffloaded, mSamplesDropped, mSamplesEvicted,
		mSpoolBytes, mSpoolEvents, mSpoolAge, mLag, mRecreated, mBodyFetched)
}
