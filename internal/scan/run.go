package scan

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/kansoku/kansoku/internal/scan/cluster"
)

// Stats summarises a scan.
type Stats struct {
	Space     uint64        `json:"space"`     // addresses × ports
	Probes    uint64        `json:"probes"`    // connect attempts and UDP probes sent
	Open      uint64        `json:"open"`      // TCP ports that accepted
	Closed    uint64        `json:"closed"`    // refused
	Timeout   uint64        `json:"timeout"`   // no answer in time
	Excluded  uint64        `json:"excluded"`  // skipped by the exclude list
	Results   uint64        `json:"results"`   // host results written
	Refused   uint64        `json:"refused"`   // dials the guard refused
	Clusters  int           `json:"clusters"`  // web UI templates found
	Position  uint64        `json:"position"`  // checkpoint position at the end
	Completed bool          `json:"completed"` // the whole space was walked
	Duration  time.Duration `json:"duration"`
}

// ProbeRate is probes per second over the run.
func (s Stats) ProbeRate() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Probes) / s.Duration.Seconds()
}

type job struct {
	pos  uint64
	addr netip.Addr
	port PortSpec
}

type runner struct {
	cfg     Config
	log     *slog.Logger
	sink    Sink
	dialer  *guardDialer
	specs   []moduleSpec
	fast    bool // discovery by fastConnect (no custom Dialer to honour)
	syn     *synProber
	tracker *tracker
	rules   *Rules

	probes, open, closed, timeout, excluded, results atomic.Uint64

	mu       sync.Mutex
	held     []*HostResult // HTTP results held back for clustering
	clusters map[string]*cluster.Cluster
	sinkErr  error
}

// Run scans cfg's targets, sending one HostResult per open port (and per
// answering UDP service) to sink. It returns when the space is walked or ctx
// is cancelled; with cfg.Checkpoint set, a later Run resumes where it stopped.
func Run(ctx context.Context, cfg Config, sink Sink, logger *slog.Logger) (Stats, error) {
	start := time.Now()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Stats{}, err
	}
	targets, exclude, err := cfg.prefixes()
	if err != nil {
		return Stats{}, err
	}
	ports, _ := ParsePorts(cfg.Ports)
	space, err := NewSpace(targets, ports)
	if err != nil {
		return Stats{}, err
	}
	specs, _ := cfg.moduleSpecs()
	for _, p := range ports {
		if p.Transport == "udp" && !anyApplies(specs, p) {
			return Stats{}, fmt.Errorf("scan: ports: no UDP module for %s", p)
		}
	}
	perm, pos, err := startPosition(cfg, space)
	if err != nil {
		return Stats{}, err
	}
	inner := cfg.Dialer
	if inner == nil {
		inner = &net.Dialer{}
	}
	r := &runner{
		cfg: cfg, log: logger, sink: sink, specs: specs,
		dialer:   &guardDialer{inner: inner, space: space, exclude: NewPrefixSet(exclude)},
		tracker:  newTracker(pos),
		fast:     cfg.Dialer == nil && haveFastConnect,
		rules:    DefaultRules(),
		clusters: map[string]*cluster.Cluster{},
	}
	if cfg.Discovery == "syn" {
		if r.syn, err = newSYNProber(); err != nil {
			return Stats{}, err
		}
		defer r.syn.close()
	}
	logger.Info("scan start", "space", space.Size(), "rate", cfg.Rate, "position", pos, "modules", len(specs))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, cfg.Concurrency)
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r.probe(runCtx, j)
			}
		}()
	}

	cpDone := make(chan struct{})
	cpStop := make(chan struct{})
	go func() {
		defer close(cpDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-cpStop:
				return
			case <-t.C:
				if cfg.Checkpoint != "" {
					r.saveCheckpoint(space, perm, false)
				} else {
					r.flushSink()
				}
			}
		}
	}()

	completed := r.generate(runCtx, space, perm, pos, jobs)
	close(jobs)
	wg.Wait()
	close(cpStop)
	<-cpDone

	// Held results are flushed even after cancellation: their probes count
	// as done in the checkpoint.
	flushCtx, flushCancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer flushCancel()
	clusters := r.flushHeld(flushCtx)

	st := Stats{
		Space: space.Size(), Probes: r.probes.Load(), Open: r.open.Load(), Closed: r.closed.Load(),
		Timeout: r.timeout.Load(), Excluded: r.excluded.Load(), Results: r.results.Load(),
		Refused: r.dialer.refused.Load(), Clusters: len(clusters), Completed: completed,
	}
	st.Position = r.tracker.low()
	if cfg.Checkpoint != "" {
		if err := r.saveCheckpoint(space, perm, completed); err != nil {
			return st, err
		}
	} else if err := r.flushSink(); err != nil {
		return st, err
	}
	if cfg.OnClusters != nil {
		cfg.OnClusters(clusters)
	}
	st.Duration = time.Since(start)
	logger.Info("scan end", "probes", st.Probes, "open", st.Open, "results", st.Results, "completed", completed, "duration", st.Duration)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sinkErr != nil {
		return st, r.sinkErr
	}
	if !completed && ctx.Err() != nil {
		return st, ctx.Err()
	}
	return st, nil
}

func anyApplies(specs []moduleSpec, p PortSpec) bool {
	for _, s := range specs {
		if s.applies(p) {
			return true
		}
	}
	return false
}

func startPosition(cfg Config, space *Space) (Permutation, uint64, error) {
	if cfg.Checkpoint != "" {
		cp, err := LoadCheckpoint(cfg.Checkpoint)
		if err != nil {
			return Permutation{}, 0, err
		}
		if cp != nil && !cp.Done {
			if cp.Space != space.Fingerprint() || cp.Permutation.N != space.Size() {
				return Permutation{}, 0, ErrCheckpointMismatch
			}
			return cp.Permutation, cp.Position, nil
		}
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:]) // never fails on Linux
		seed = binary.LittleEndian.Uint64(b[:])
	}
	perm, err := NewPermutation(space.Size(), rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)))
	return perm, 0, err
}

func (r *runner) saveCheckpoint(space *Space, perm Permutation, done bool) error {
	// The position first, then the flush: every probe done by the time the
	// position is read has its result in the sink's buffer, so it is on
	// disk before the checkpoint says it is done.
	pos := r.tracker.low()
	if err := r.flushSink(); err != nil {
		return err
	}
	cp := &Checkpoint{Version: 1, Space: space.Fingerprint(), Permutation: perm, Position: pos, Done: done, Time: time.Now().UTC()}
	if err := cp.Save(r.cfg.Checkpoint); err != nil {
		r.log.Warn("checkpoint", "err", err)
		return err
	}
	return nil
}

// flushSink writes what a buffering sink holds; a failure is the scan's
// error, as a failed Put is.
func (r *runner) flushSink() error {
	f, ok := r.sink.(Flusher)
	if !ok {
		return nil
	}
	if err := f.Flush(); err != nil {
		r.mu.Lock()
		if r.sinkErr == nil {
			r.sinkErr = err
		}
		r.mu.Unlock()
		r.log.Warn("flush results", "err", err)
		return err
	}
	return nil
}

// generate walks the permutation from pos, honouring the exclude list and
// the rate; it reports whether the walk completed.
func (r *runner) generate(ctx context.Context, space *Space, perm Permutation, pos uint64, jobs chan<- job) bool {
	burst := max(1, int(r.cfg.Rate/50))
	lim := rate.NewLimiter(rate.Limit(r.cfg.Rate), burst)
	it := perm.Iter(pos)
	for {
		idx, p, ok := it.Next()
		if !ok {
			r.tracker.advance(it.Pos())
			return true
		}
		addr, port := space.At(idx)
		if r.dialer.exclude.Contains(addr) {
			r.excluded.Add(1)
			r.tracker.advance(it.Pos())
			continue
		}
		if err := lim.Wait(ctx); err != nil {
			r.tracker.advance(p)
			return false
		}
		r.tracker.start(p, it.Pos())
		select {
		case jobs <- job{pos: p, addr: addr, port: port}:
		case <-ctx.Done():
			return false
		}
	}
}

func (r *runner) probe(ctx context.Context, j job) {
	if ctx.Err() != nil {
		return // left in flight: a resumed scan repeats it
	}
	var hr *HostResult
	if j.port.Transport == "tcp" && anyApplies(r.specs, j.port) && r.syn == nil {
		// The grab's own connection is the discovery probe: a separate
		// connect first would cost the target a second handshake.
		r.probes.Add(1)
		hr = r.grab(ctx, j)
		if ctx.Err() != nil {
			return
		}
		switch allStatus(hr) {
		case StatusConnectionRefused:
			r.closed.Add(1)
			r.tracker.done(j.pos)
			return
		case StatusConnectionTimeout:
			r.timeout.Add(1)
			r.tracker.done(j.pos)
			return
		}
		r.open.Add(1)
	} else if j.port.Transport == "tcp" {
		err := r.connect(ctx, j)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			switch StatusFromError(err) {
			case StatusConnectionRefused:
				r.closed.Add(1)
			case StatusConnectionTimeout, StatusIOTimeout:
				r.timeout.Add(1)
			default:
				r.log.Debug("probe", "addr", j.addr, "port", j.port.Port, "err", err)
			}
			r.tracker.done(j.pos)
			return
		}
		r.open.Add(1)
		hr = r.grab(ctx, j)
	} else {
		hr = r.grab(ctx, j)
		if ctx.Err() != nil {
			return
		}
		if !anySuccess(hr) {
			r.tracker.done(j.pos)
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	Classify(r.rules, hr)
	if r.hold(ctx, hr) {
		r.tracker.done(j.pos)
		return
	}
	r.put(ctx, hr)
	r.tracker.done(j.pos)
}

// connect is the discovery probe for ports no module grabs; a nil error
// means the port is open. A
// timeout is retried (Config.Retries times) since a lost SYN is not proof
// of a filtered port; a refusal is.
func (r *runner) connect(ctx context.Context, j job) error {
	ap := netip.AddrPortFrom(j.addr, j.port.Port)
	addr := ap.String()
	if r.syn != nil && j.addr.Is4() {
		if err := r.dialer.permit(addr); err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			r.probes.Add(1)
			err := r.syn.probe(ctx, ap, r.cfg.ConnectTimeout)
			if err == nil || attempt >= r.cfg.Retries || ctx.Err() != nil || StatusFromError(err) != StatusConnectionTimeout {
				return err
			}
		}
	}
	if r.fast {
		if err := r.dialer.permit(addr); err != nil {
			return err
		}
		switch fastConnect(ap) {
		case connectOpen:
			r.probes.Add(1)
			return nil
		case connectClosed:
			r.probes.Add(1)
			return errRefused
		}
	}
	for attempt := 0; ; attempt++ {
		r.probes.Add(1)
		dctx, cancel := context.WithTimeout(ctx, r.cfg.ConnectTimeout)
		conn, err := r.dialer.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		if attempt >= r.cfg.Retries || ctx.Err() != nil {
			return err
		}
		if st := StatusFromError(err); st != StatusConnectionTimeout && st != StatusIOTimeout {
			return err
		}
	}
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// allStatus is the status every module reported, or "" if they differ.
func allStatus(hr *HostResult) Status {
	var st Status
	for _, d := range hr.Data {
		if st != "" && d.Status != st {
			return ""
		}
		st = d.Status
	}
	return st
}

func anySuccess(hr *HostResult) bool {
	for _, d := range hr.Data {
		if d.Status == StatusSuccess {
			return true
		}
	}
	return false
}

// grab runs every module that applies to the port.
func (r *runner) grab(ctx context.Context, j job) *HostResult {
	hr := &HostResult{IP: j.addr, Port: j.port.Port, Transport: j.port.Transport, Data: map[string]ModuleResult{}, Time: time.Now().UTC()}
	for _, s := range r.specs {
		if !s.applies(j.port) {
			continue
		}
		if j.port.Transport == "udp" {
			r.probes.Add(1)
		}
		gctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
		t := Target{IP: j.addr, Port: j.port.Port, Dialer: r.dialer, Timeout: r.cfg.Timeout}
		status, res, err := s.m.Scan(gctx, t)
		cancel()
		mr := ModuleResult{Status: status, Protocol: s.m.Protocol(), Result: res, Timestamp: time.Now().UTC()}
		if err != nil {
			mr.Error = err.Error()
		}
		hr.Data[s.m.Name()] = mr
	}
	return hr
}

// WebPage is implemented by HTTP results so the runner can cluster them
// without importing the module.
type WebPage interface {
	WebPage() (body []byte, title string, favicon *int32)
}

// hold keeps an HTTP result back for clustering. A full buffer is
// clustered and written as one batch (template IDs are stable across
// batches, so the batches' clusters merge by ID).
func (r *runner) hold(ctx context.Context, hr *HostResult) bool {
	if webPageOf(hr) == nil {
		return false
	}
	r.mu.Lock()
	r.held = append(r.held, hr)
	var batch []*HostResult
	if len(r.held) >= r.cfg.ClusterBuffer {
		batch, r.held = r.held, nil
	}
	r.mu.Unlock()
	if batch != nil {
		r.clusterBatch(ctx, batch)
	}
	return true
}

func webPageOf(hr *HostResult) WebPage {
	for _, name := range []string{"http", "https"} {
		if d, ok := hr.Data[name]; ok && d.Status == StatusSuccess {
			if wp, ok := d.Result.(WebPage); ok {
				return wp
			}
		}
	}
	for _, d := range hr.Data {
		if wp, ok := d.Result.(WebPage); ok && d.Status == StatusSuccess {
			return wp
		}
	}
	return nil
}

func (r *runner) put(ctx context.Context, hr *HostResult) {
	if err := r.sink.Put(ctx, hr); err != nil {
		r.mu.Lock()
		if r.sinkErr == nil {
			r.sinkErr = err
		}
		r.mu.Unlock()
		return
	}
	r.results.Add(1)
}

// flushHeld clusters what is still held and returns every cluster seen.
func (r *runner) flushHeld(ctx context.Context) []cluster.Cluster {
	r.mu.Lock()
	held := r.held
	r.held = nil
	r.mu.Unlock()
	if len(held) > 0 {
		r.clusterBatch(ctx, held)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]cluster.Cluster, 0, len(r.clusters))
	for _, c := range r.clusters {
		sort.Strings(c.Members)
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Size != out[j].Size {
			return out[i].Size > out[j].Size
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// clusterBatch clusters web pages, labels their hosts and writes them.
func (r *runner) clusterBatch(ctx context.Context, held []*HostResult) {
	pages := make([]cluster.Page, 0, len(held))
	for _, hr := range held {
		body, title, fav := webPageOf(hr).WebPage()
		p := cluster.Page{Key: netip.AddrPortFrom(hr.IP, hr.Port).String(), Port: hr.Port, Body: body, Title: title, FaviconHash: fav}
		if hr.Classification != nil {
			p.Product = hr.Classification.Product
		}
		pages = append(pages, p)
	}
	res := cluster.Analyze(pages, cluster.Options{})
	r.mu.Lock()
	for _, c := range res.Clusters {
		if have, ok := r.clusters[c.ID]; ok {
			have.Members = append(have.Members, c.Members...)
			have.Size += c.Size
			continue
		}
		c := c
		r.clusters[c.ID] = &c
	}
	r.mu.Unlock()
	for i, hr := range held {
		hr.Labels = res.Labels[pages[i].Key]
		hr.Template = res.Template[pages[i].Key]
		r.put(ctx, hr)
	}
}
