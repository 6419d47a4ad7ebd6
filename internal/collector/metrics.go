package collector

import (
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "collector",
		Name: "events_total", Help: "Events stored, by honeypot and kind."}, []string{"honeypot", "kind"})
	mDuplicates = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "collector",
		Name: "duplicates_total", Help: "Redelivered events the store already had."})
	mBad = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "collector",
		Name: "malformed_total", Help: "Bus messages that were not valid events."})
	mErrors = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "collector",
		Name: "store_errors_total", Help: "Failed store writes (the batch is redelivered)."})
	mWrite = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: metrics.Namespace, Subsystem: "store",
		Name: "write_seconds", Help: "Latency of one batched event write.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
)

func init() {
	metrics.Registry.MustRegister(mEvents, mDuplicates, mBad, mErrors, mWrite)
}
