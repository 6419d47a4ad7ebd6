package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is a finished download.
type Result struct {
	URL         string // as requested
	FinalURL    string // after redirects
	Status      int    // HTTP status, FTP reply code, or 0 for TFTP
	ContentType string
	Body        []byte
	Addr        netip.AddrPort // the checked address the body came from
	Cached      bool           // answered from the URL cache
}

// Resolver looks host names up; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Option adjusts a Fetcher.
type Option func(*Fetcher)

// WithResolver replaces the system resolver (tests use it to map names to
// loopback addresses).
func WithResolver(r Resolver) Option { return func(f *Fetcher) { f.resolver = r } }

// WithClock replaces time.Now for the rate limit and the cache, and the
// wait for a host's next fetch slot.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(f *Fetcher) { f.now, f.sleep = now, sleep }
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Bounds on the fetcher's own memory, whatever attackers make it fetch.
const (
	maxCacheEntries = 4096
	maxCacheBytes   = 128 << 20
	maxHosts        = 65536
	maxRedirects    = 5
	maxURLLength    = 4096
	maxHostWait     = 30 * time.Second // longest wait for a host's next fetch slot
)

// Fetcher downloads URLs under the capture policy; safe for concurrent use.
type Fetcher struct {
	cfg      Config
	log      *slog.Logger
	policy   *Policy
	resolver Resolver
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	sem      chan struct{}

	mu         sync.Mutex
	cache      map[string]*entry
	order      []string // insertion order, for eviction
	cacheBytes int64
	hosts      map[string]time.Time
}

type entry struct {
	done chan struct{}
	at   time.Time
	res  *Result
	err  error
}

// New returns a fetcher; cfg should have passed Validate (zero values fall
// back to the defaults).
func New(cfg Config, logger *slog.Logger, opts ...Option) *Fetcher {
	d := DefaultConfig()
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = d.MaxBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = d.MaxConcurrent
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Fetcher{
		cfg: cfg, log: logger, policy: NewPolicy(cfg.AllowNetworks, cfg.DenyNetworks),
		resolver: net.DefaultResolver, now: time.Now, sleep: sleepCtx, sem: make(chan struct{}, cfg.MaxConcurrent),
		cache: map[string]*entry{}, hosts: map[string]time.Time{},
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Config returns the effective configuration.
func (f *Fetcher) Config() Config { return f.cfg }

// Fetch downloads rawURL (http, https, tftp or ftp). On failure the error
// is an *Error and the Result, if not nil, carries what is known (status).
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (*Result, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, &Error{Kind: KindBadURL, URL: rawURL, Err: err}
	}
	key := u.String()
	f.mu.Lock()
	now := f.now()
	if e, ok := f.cache[key]; ok && (f.cfg.CacheWindow > 0 && now.Sub(e.at) < f.cfg.CacheWindow || !isDone(e)) {
		f.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, &Error{Kind: KindTimeout, URL: rawURL, Err: ctx.Err()}
		}
		if e.res != nil {
			r := *e.res
			r.Cached = true
			r.URL = rawURL
			return &r, e.err
		}
		return nil, e.err
	}
	// One fetch per host per interval: a fetch for a host fetched recently
	// waits for the host's next slot (droppers fetch one binary per CPU
	// from the same host in a burst) unless that is too far away.
	host := strings.ToLower(u.Hostname())
	start := now
	if last, ok := f.hosts[host]; ok && f.cfg.PerHostInterval > 0 && now.Sub(last) < f.cfg.PerHostInterval {
		start = last.Add(f.cfg.PerHostInterval)
		if start.Sub(now) > min(maxHostWait, f.cfg.Timeout) {
			f.mu.Unlock()
			return nil, &Error{Kind: KindRateLimited, URL: rawURL, Err: fmt.Errorf("host %s: no fetch slot within %s", host, min(maxHostWait, f.cfg.Timeout))}
		}
	}
	f.noteHost(host, start)
	e := &entry{done: make(chan struct{}), at: now}
	f.insert(key, e)
	f.mu.Unlock()

	if wait := start.Sub(now); wait > 0 {
		if err := f.sleep(ctx, wait); err != nil {
			// Not a result of the URL: forget the entry instead of caching it.
			f.mu.Lock()
			if f.cache[key] == e {
				delete(f.cache, key)
			}
			e.err = &Error{Kind: KindRateLimited, URL: rawURL, Err: fmt.Errorf("waiting for host %s: %w", host, err)}
			f.mu.Unlock()
			close(e.done)
			return nil, e.err
		}
	}
	res, err := f.fetch(ctx, u)
	if err != nil {
		err = &Error{Kind: classify(err), URL: rawURL, Err: err}
		f.log.Debug("fetch failed", "url", rawURL, "err", err)
	}
	f.mu.Lock()
	e.res, e.err = res, err
	if res != nil {
		f.cacheBytes += int64(len(res.Body))
	}
	f.evict()
	f.mu.Unlock()
	close(e.done)
	return res, err
}

func isDone(e *entry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

func (f *Fetcher) noteHost(host string, now time.Time) {
	if len(f.hosts) >= maxHosts {
		for h, t := range f.hosts {
			if now.Sub(t) >= f.cfg.PerHostInterval {
				delete(f.hosts, h)
			}
		}
		if len(f.hosts) >= maxHosts {
			clear(f.hosts) // a flood of hosts: forget rather than grow
		}
	}
	f.hosts[host] = now
}

// insert adds e, replacing an expired entry; callers hold f.mu.
func (f *Fetcher) insert(key string, e *entry) {
	if old, ok := f.cache[key]; ok && old.res != nil {
		f.cacheBytes -= int64(len(old.res.Body))
	}
	if _, ok := f.cache[key]; !ok {
		f.order = append(f.order, key)
	}
	f.cache[key] = e
	f.evict()
}

// evict drops the oldest finished entries beyond the caps and expired ones
// at the front; callers hold f.mu.
func (f *Fetcher) evict() {
	now := f.now()
	for len(f.order) > 0 {
		k := f.order[0]
		e := f.cache[k]
		over := len(f.cache) > maxCacheEntries || f.cacheBytes > maxCacheBytes
		expired := e == nil || now.Sub(e.at) >= f.cfg.CacheWindow
		if e != nil && !isDone(e) || !over && !expired {
			return
		}
		f.order = f.order[1:]
		if e != nil {
			if e.res != nil {
				f.cacheBytes -= int64(len(e.res.Body))
			}
			delete(f.cache, k)
		}
	}
}

func (f *Fetcher) fetch(ctx context.Context, u *url.URL) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a download slot: %w", ctx.Err())
	}
	switch u.Scheme {
	case "http", "https":
		return f.fetchHTTP(ctx, u)
	case "tftp":
		return f.fetchTFTP(ctx, u)
	case "ftp":
		return f.fetchFTP(ctx, u)
	}
	return nil, withKind(KindBadURL, fmt.Errorf("unsupported scheme %q", u.Scheme))
}

func parseURL(raw string) (*url.URL, error) {
	if len(raw) > maxURLLength {
		return nil, fmt.Errorf("url longer than %d bytes", maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https", "tftp", "ftp":
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("missing host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
	}
	u.Fragment = ""
	return u, nil
}

// resolve returns the addresses of host, refusing the lot if any one of
// them is refused: a name that also points inside is not fetched at all.
func (f *Fetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = f.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			var de *net.DNSError
			if errors.As(err, &de) {
				return nil, err
			}
			return nil, withKind(KindDNS, fmt.Errorf("resolve %s: %w", host, err))
		}
		if len(addrs) == 0 {
			return nil, withKind(KindDNS, fmt.Errorf("resolve %s: no addresses", host))
		}
	}
	for _, a := range addrs {
		if err := f.policy.Check(a); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errRefused, host, err)
		}
	}
	return addrs, nil
}

// dial connects to the first reachable checked address of host. The
// dialer's Control re-checks the address actually connected to, so nothing
// between the check and the connect can swap it.
func (f *Fetcher) dial(ctx context.Context, network, host string, port uint16) (net.Conn, netip.AddrPort, error) {
	addrs, err := f.resolve(ctx, host)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	d := net.Dialer{ControlContext: f.control}
	var last error
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap(), port)
		c, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return c, ap, nil
		}
		last = err
	}
	return nil, netip.AddrPort{}, last
}

func (f *Fetcher) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", errRefused, address, err)
	}
	if err := f.policy.Check(ap.Addr()); err != nil {
		return fmt.Errorf("%w: %v", errRefused, err)
	}
	return nil
}

func portOf(u *url.URL, def uint16) uint16 {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return uint16(n)
	}
	return def
}
