// Package web is the portal: the HTTP API, the live events page and the
// pages built on the store. It reads through store.Store and the bus only;
// it never writes events.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the portal.
type Options struct {
	Store          store.Store
	Bus            *bus.Bus // optional: live events, sample downloads
	Logger         *slog.Logger
	TrustedProxies []netip.Prefix
	// CheckWindow is how far back the infection check looks (default 7 days).
	CheckWindow time.Duration
	// CheckPerMinute is how many infection checks one address may make per
	// minute (default 30; negative: unlimited, for benchmarks).
	CheckPerMinute int
	// FeedSeed makes this instance's MISP and STIX UUIDs its own.
	FeedSeed string
	// BaseURL is the portal's public URL, for links in feeds.
	BaseURL string
	// Alerts, when set, is the dispatcher whose subscriptions the admin
	// pages manage and whose dead letters they show.
	Alerts *alert.Dispatcher
	// Metrics says who may read the metrics: MetricsPublic (/metrics, the
	// default), MetricsAdmin (/admin/metrics, a logged-in admin: the access
	// policy's operations data), or MetricsOff (not on the portal; serve MetricsHandler on an
	// address of its own).
	Metrics string
}

// Who may read /metrics (Options.Metrics, config portal.metrics).
const (
	MetricsPublic = "public"
	MetricsAdmin  = "admin"
	MetricsOff    = "off"
)

// MetricsHandler serves the Prometheus metrics, for a listener of their own.
func MetricsHandler() http.Handler {
	return promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{})
}

// Server is the portal's HTTP handler.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	tmpl   *template.Template
	ready  func() bool
	live   *hub
	cat    catalogue
	limit  *rateLimiter
	logins *rateLimiter
	dash   dashCache
	// hostAgg caches the hosts aggregates.
	hostAgg aggCache
	// bg counts background work (aggregate recounts) that Run waits for;
	// runCtx is Run's context, which ends it.
	bg     sync.WaitGroup
	runMu  sync.Mutex
	runCtx context.Context
}

// runContext is the context background work runs under: Run's, or, when
// the handler is used without Run (tests), the request's without its
// cancellation.
func (s *Server) runContext(req context.Context) context.Context {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.runCtx != nil {
		return s.runCtx
	}
	return context.WithoutCancel(req)
}

// New builds the portal.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	if o.CheckWindow <= 0 {
		o.CheckWindow = 7 * 24 * time.Hour
	}
	if o.CheckPerMinute == 0 {
		o.CheckPerMinute = 30
	}
	if o.FeedSeed == "" {
		o.FeedSeed = "kansoku"
	}
	cat, err := loadCatalogue()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, mux: http.NewServeMux(), tmpl: tmpl, ready: func() bool { return true }, live: newHub(), cat: cat,
		limit: newRateLimiter(o.CheckPerMinute), logins: newRateLimiter(10)}
	s.routes()
	if o.Alerts != nil {
		if err := s.loadSubscriptions(context.Background()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Server) routes() {
	static, _ := fs.Sub(staticFS, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /healthz", s.healthz)
	switch s.opts.Metrics {
	case MetricsAdmin:
		// Under /admin, where the admin's session cookie is sent.
		h := MetricsHandler()
		s.mux.HandleFunc("GET /admin/metrics", s.withAdmin(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := s.allow(w, r, access.Operations); ok {
				h.ServeHTTP(w, r)
			}
		}))
		s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "metrics are at /admin/metrics, for a logged-in admin")
		})
	case MetricsOff:
	default:
		s.mux.Handle("GET /metrics", MetricsHandler())
	}
	s.mux.HandleFunc("GET /api/v1/events", s.apiEvents)
	s.mux.HandleFunc("GET /api/v1/stats", s.apiStats)
	s.mux.HandleFunc("GET /api/v1/stream", s.apiStream)
	s.mux.HandleFunc("GET /live", s.pageLive)
	s.mux.HandleFunc("GET /{$}", s.pageDashboard)
	s.portalRoutes()
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint")
	})
}

// ServeHTTP adds the security headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.opts.Logger.Error("portal handler panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// SetReady installs the readiness check behind /healthz.
func (s *Server) SetReady(f func() bool) { s.ready = f }

// Run serves on ln until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	s.runMu.Lock()
	s.runCtx = ctx
	s.runMu.Unlock()
	defer s.bg.Wait()
	if s.opts.Bus != nil {
		if err := s.live.subscribe(s.opts.Bus); err != nil {
			return err
		}
		defer s.live.close()
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.live.close()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if !s.ready() {
		writeError(w, http.StatusServiceUnavailable, "starting")
		return
	}
	// The process's health: degraded (503) while its store, bus or spool
	// reports a problem, the same answer as on metrics.listen.
	metrics.Process.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// ClientIP is the address of the visitor: the connection's peer, or the
// rightmost untrusted X-Forwarded-For hop when the peer is a trusted proxy.
// A header from anyone else is ignored, so nobody can claim another address.
func (s *Server) ClientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		h = h.Unmap()
		if !s.trusted(h) {
			return h
		}
		ip = h
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var funcs = template.FuncMap{
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"line":    LineChart,
	"bar":     BarChart,
	"counts":  CountChart,
	"detail":  detail,
	"inc":     func(i int) int { return i + 1 },
}
