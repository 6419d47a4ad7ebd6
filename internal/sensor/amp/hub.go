package amp

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Hub is the state every amp instance of a process shares, so that an
// attacker cannot multiply budgets by spreading requests over many ports:
// the detection table, the per-source reply budgets, the global egress
// token bucket and the event rate limit.
type Hub struct {
	cfg     Shared
	Tracker *Tracker

	mu      sync.Mutex
	budgets budgetTable
	swept   time.Time // last full sweep of expired budgets
	tokens  float64
	filled  time.Time
	evTok   float64
	evAt    time.Time

	// Requests counts every datagram handled.
	Requests atomic.Uint64
	// Egress counters: what actually left through send.
	SentBytes, SentPackets     atomic.Uint64
	DeniedBytes, DeniedPackets atomic.Uint64
	DroppedEvents              atomic.Uint64
}

type budget struct {
	start uint32 // unix seconds of the window start
	n     uint16
}

// Shared are the settings that must be the same on every amp instance of
// a process (they configure the Hub).
type Shared struct {
	AttackThreshold    uint64        `yaml:"attack_threshold"`
	AttackTimeout      time.Duration `yaml:"attack_timeout"`
	UpdateInterval     time.Duration `yaml:"update_interval"`
	MaxEntries         int           `yaml:"max_entries"`
	ReplyBudget        int           `yaml:"reply_budget"`
	PrefixReplyBudget  int           `yaml:"prefix_reply_budget"`
	ReplyWindow        time.Duration `yaml:"reply_window"`
	EgressRate         int           `yaml:"egress_bytes_per_second"`
	EgressBurst        int           `yaml:"egress_burst"`
	SampleFirst        uint64        `yaml:"sample_first"`
	SampleEvery        uint64        `yaml:"sample_every"`
	MaxEventsPerSecond int           `yaml:"max_events_per_second"`
}

// DefaultShared are the documented defaults.
func DefaultShared() Shared {
	return Shared{
		AttackThreshold: 100, AttackTimeout: time.Hour, UpdateInterval: time.Minute, MaxEntries: 1_000_000,
		ReplyBudget: 20, PrefixReplyBudget: 60, ReplyWindow: time.Hour, EgressRate: 16 << 10, EgressBurst: 32 << 10,
		SampleFirst: 3, SampleEvery: 1000, MaxEventsPerSecond: 200,
	}
}

// NewHub returns a hub with cfg (validated by the caller).
func NewHub(cfg Shared) *Hub {
	return &Hub{cfg: cfg, budgets: newBudgetTable(), tokens: float64(cfg.EgressBurst), evTok: float64(cfg.MaxEventsPerSecond),
		Tracker: NewTracker(TrackerConfig{Threshold: cfg.AttackThreshold, Timeout: cfg.AttackTimeout, UpdateInterval: cfg.UpdateInterval,
			MaxEntries: cfg.MaxEntries, SampleFirst: cfg.SampleFirst, SampleEvery: cfg.SampleEvery})}
}

// Config returns the hub's settings.
func (h *Hub) Config() Shared { return h.cfg }

// allow decides whether one reply datagram of n bytes for protocol to
// dst may leave, and if so charges every budget. It is called only by send.
func (h *Hub) allow(dst netip.Addr, protocol uint8, n int, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refill(now)
	if h.tokens < float64(n) {
		return false
	}
	sec := uint32(now.Unix())
	src, srcOK := h.live(h.budgets.source(dst, protocol))(sec)
	pfx, pfxOK := h.live(h.budgets.prefix(dst))(sec)
	added := 0
	if !srcOK {
		added++
	}
	if !pfxOK {
		added++
	}
	if added > 0 && h.budgets.len()+added > h.cfg.MaxEntries && now.Sub(h.swept) >= time.Second {
		h.sweepBudgets(sec)
		h.swept = now
	}
	if added > 0 && h.budgets.len()+added > h.cfg.MaxEntries {
		// Full of live budgets: fail closed, a new source gets nothing.
		return false
	}
	if int(src.n) >= h.cfg.ReplyBudget || int(pfx.n) >= h.cfg.PrefixReplyBudget {
		return false
	}
	src.n++
	pfx.n++
	h.budgets.setSource(dst, protocol, src)
	h.budgets.setPrefix(dst, pfx)
	h.tokens -= float64(n)
	return true
}

// live turns a stored budget into the one in force at sec: a new window
// (starting at sec) when there is none or it has expired.
func (h *Hub) live(b budget, ok bool) func(sec uint32) (budget, bool) {
	return func(sec uint32) (budget, bool) {
		if ok && int64(sec)-int64(b.start) < int64(h.cfg.ReplyWindow/time.Second) {
			return b, true
		}
		return budget{start: sec}, false
	}
}

// refill adds the tokens earned since the last call.
func (h *Hub) refill(now time.Time) {
	if !h.filled.IsZero() {
		h.tokens = min(float64(h.cfg.EgressBurst), h.tokens+now.Sub(h.filled).Seconds()*float64(h.cfg.EgressRate))
	}
	h.filled = now
}

// mayReply reports whether a first reply datagram of n bytes for protocol
// to dst could leave now; send still decides, this only lets the caller
// skip building replies that would be refused.
func (h *Hub) mayReply(dst netip.Addr, protocol uint8, n int, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	tokens := h.tokens
	if !h.filled.IsZero() {
		tokens = min(float64(h.cfg.EgressBurst), tokens+now.Sub(h.filled).Seconds()*float64(h.cfg.EgressRate))
	}
	if tokens < float64(n) {
		return false
	}
	sec := uint32(now.Unix())
	src, _ := h.live(h.budgets.source(dst, protocol))(sec)
	pfx, _ := h.live(h.budgets.prefix(dst))(sec)
	return int(src.n) < h.cfg.ReplyBudget && int(pfx.n) < h.cfg.PrefixReplyBudget
}

func (h *Hub) sweepBudgets(sec uint32) {
	w := int64(h.cfg.ReplyWindow / time.Second)
	h.budgets.expire(func(b budget) bool { return int64(sec)-int64(b.start) < w })
}

// SweepBudgets drops expired per-source budgets.
func (h *Hub) SweepBudgets(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweepBudgets(uint32(now.Unix()))
	h.swept = now
}

// Budgets is the number of per-source budgets held.
func (h *Hub) Budgets() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.budgets.len()
}

// eventAllowed rate-limits the sampled kinds (amp.request, amp.scan) so a
// spoofed flood cannot flood the bus; attack events are never limited.
func (h *Hub) eventAllowed(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.evAt.IsZero() {
		h.evTok = min(float64(h.cfg.MaxEventsPerSecond), h.evTok+now.Sub(h.evAt).Seconds()*float64(h.cfg.MaxEventsPerSecond))
	}
	h.evAt = now
	if h.evTok < 1 {
		h.DroppedEvents.Add(1)
		return false
	}
	h.evTok--
	return true
}

var (
	defaultMu  sync.Mutex
	defaultHub *Hub
)

// processHub returns the process-wide hub, creating it with cfg on first
// use; a later instance with different shared settings is an error because
// its budgets could not be honoured.
func processHub(cfg Shared) (*Hub, error) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultHub == nil {
		defaultHub = NewHub(cfg)
		return defaultHub, nil
	}
	if defaultHub.cfg != cfg {
		return nil, errSharedMismatch
	}
	return defaultHub, nil
}
