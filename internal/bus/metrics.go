package bus

import (
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mSpooled = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_spooled_total", Help: "Events written to the local spool."})
	mForwarded = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_forwarded_total", Help: "Events acknowledged by JetStream."})
	mSpoolDropped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "events_dropped_total", Help: "Events refused because the spool was full."})
	mLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "bus",
		Name: "consumer_pending", Help: "Messages waiting for a consumer (bus lag)."}, []string{"consumer"})
)

func init() {
	metrics.Registry.MustRegister(mSpooled, mForwarded, mSpoolDropped, mLag)
}
