package metrics

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Health is what a process knows is wrong with it right now: each part
// (the spool, the bus connection, the store, a consumer) sets a problem
// while it has one and clears it when it is gone. /healthz on the metrics
// listener and on the portal answer from the same process-wide value, so
// every process says "degraded" while it cannot do its job, not only the
// one that happens to serve pages.
type Health struct {
	mu       sync.Mutex
	problems map[string]problem
}

type problem struct {
	msg   string
	since time.Time
}

// Process is the process's health, like Registry is its metrics.
var Process = NewHealth()

// NewHealth returns a healthy Health (tests use their own).
func NewHealth() *Health { return &Health{problems: map[string]problem{}} }

var mDegraded = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "degraded",
	Help: "1 while a part of this process reports a problem (the part is the label), else 0."}, []string{"part"})

func init() { Registry.MustRegister(mDegraded) }

// Set records that part has a problem; the first time since the part was
// last healthy it reports true, so callers log once per outage.
func (h *Health) Set(part, msg string) (first bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, had := h.problems[part]
	if !had {
		p.since = time.Now()
	}
	p.msg = msg
	h.problems[part] = p
	if h == Process {
		mDegraded.WithLabelValues(part).Set(1)
	}
	return !had
}

// Clear records that part is healthy again; it reports whether it was not,
// and for how long.
func (h *Health) Clear(part string) (was bool, lasted time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, had := h.problems[part]
	if !had {
		return false, 0
	}
	delete(h.problems, part)
	if h == Process {
		mDegraded.WithLabelValues(part).Set(0)
	}
	return true, time.Since(p.since)
}

// Status is the /healthz document.
type Status struct {
	Status   string            `json:"status"` // ok or degraded
	Problems map[string]string `json:"problems,omitempty"`
}

// Status returns the current status.
func (h *Health) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.problems) == 0 {
		return Status{Status: "ok"}
	}
	st := Status{Status: "degraded", Problems: map[string]string{}}
	for k, p := range h.problems {
		st.Problems[k] = p.msg
	}
	return st
}

// Parts lists the parts with a problem, sorted (for logs and tests).
func (h *Health) Parts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.problems))
	for k := range h.problems {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP answers 200 {"status":"ok"} or 503 {"status":"degraded",
// "problems":{part: what}}: a load balancer or monitor needs only the code.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	st := h.Status()
	code := http.StatusOK
	if st.Status != "ok" {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(st)
}
