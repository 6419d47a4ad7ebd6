package sensor

import (
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mOpen = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "sensor",
		Name: "sessions_open", Help: "Sessions open now, by sensor."}, []string{"sensor"})
	mSessions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "sensor",
		Name: "sessions_total", Help: "Sessions accepted, by sensor."}, []string{"sensor"})
	mRejected = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "sensor",
		Name: "sessions_rejected_total", Help: "Connections refused by the global or per-source session cap."}, []string{"sensor"})
	mEvicted = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "sensor",
		Name: "sessions_evicted_total", Help: "Sessions cut idle in their login phase to make room near the session cap."}, []string{"sensor"})
	mPanics = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "sensor",
		Name: "panics_recovered_total", Help: "Panics recovered in sensor code, by sensor."}, []string{"sensor"})
)

func init() {
	metrics.Registry.MustRegister(mOpen, mSessions, mRejected, mEvicted, mPanics)
}
