// Package metrics holds the Prometheus registry that every kansoku part
// registers its collectors in and that the portal serves on /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is process-wide on purpose: one process serves one /metrics.
var Registry = prometheus.NewRegistry()

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Namespace prefixes every kansoku metric.
const Namespace = "kansoku"
