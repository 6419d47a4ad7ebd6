package worker

import (
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	mQueue = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metrics.Namespace, Subsystem: "analysis",
		Name: "queue_depth", Help: "Analysis jobs waiting or in progress (seen by a worker process)."})
	mRetries = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "analysis",
		Name: "retries_total", Help: "Jobs delivered again because an earlier attempt did not finish."})
	mFailed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Subsystem: "analysis",
		Name: "gave_up_total", Help: "Jobs marked failed after every attempt died without a report."})
)

func init() { metrics.Registry.MustRegister(mQueue, mRetries, mFailed) }
