package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func (s *Server) portalRoutes() {
	s.mux.HandleFunc("GET /check", s.pageCheck)
	s.mux.HandleFunc("GET /api/v1/check", s.apiCheck)
	s.mux.HandleFunc("GET /api/v1/check/{ip}", s.apiCheckAny)
	s.mux.HandleFunc("GET /session/{id}", s.pageSession)
	s.mux.HandleFunc("GET /sample/{sha256}", s.pageSample)
	s.mux.HandleFunc("GET /url", s.pageURL)
	s.mux.HandleFunc("GET /search", s.pageSearch)
	s.mux.HandleFunc("GET /attacks/{ip}", s.pageAttacks)
	s.mux.HandleFunc("GET /api/v1/attacks", s.apiAttacks)
	s.mux.HandleFunc("GET /exploits", s.pageExploits)
	s.mux.HandleFunc("GET /api/v1/exploits", s.apiExploits)
	s.mux.HandleFunc("GET /ics", s.pageICS)
	s.mux.HandleFunc("GET /api/v1/ics", s.apiICS)
	s.mux.HandleFunc("GET /hosts", s.pageHosts)
	s.mux.HandleFunc("GET /hosts/{ip}", s.pageHost)
	s.mux.HandleFunc("GET /admin/hosts", s.withAdmin(s.pageHosts))
	s.mux.HandleFunc("GET /admin/hosts/{ip}", s.withAdmin(s.pageHost))
	s.mux.HandleFunc("GET /api/v1/hosts", s.apiHosts)
	s.mux.HandleFunc("GET /api/v1/samples", s.apiSamples)
	s.mux.HandleFunc("GET /api/v1/samples/{sha256}", s.apiSample)
	s.mux.HandleFunc("GET /api/v1/samples/{sha256}/download", s.apiSampleDownload)
	s.mux.HandleFunc("GET /api/v1/urls", s.apiURLs)
	s.mux.HandleFunc("GET /api/v1/c2s", s.apiC2s)
	s.mux.HandleFunc("GET /api/v1/sessions/{id}", s.apiSession)
	s.mux.HandleFunc("GET /api/v1/sessions/{id}/recording", s.apiRecording)
	s.mux.HandleFunc("GET /api/v1/search", s.apiSearch)
	s.mux.HandleFunc("GET /api/v1/dashboard", s.apiDashboard)
	s.feedRoutes()
	s.ethRoutes()
	s.adminRoutes()
}

// dashCache keeps the dashboard aggregates for a few seconds: they are
// cheap already, this only flattens bursts.
type dashCache struct {
	mu   sync.Mutex
	at   time.Time
	data *store.Dashboard
}

const dashDays = 30

func (s *Server) dashboard(ctx context.Context) (*store.Dashboard, error) {
	s.dash.mu.Lock()
	defer s.dash.mu.Unlock()
	if s.dash.data != nil && time.Since(s.dash.at) < 5*time.Second {
		return s.dash.data, nil
	}
	d, err := s.opts.Store.Dashboard(ctx, time.Now().UTC().AddDate(0, 0, -(dashDays-1)), 10)
	if err != nil {
		return nil, err
	}
	s.dash.data, s.dash.at = d, time.Now()
	return d, nil
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.dashboard(r.Context())
	if err != nil {
		s.opts.Logger.Error("dashboard", "err", err)
		http.Error(w, "query failed", http.StatusInternalServerError)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard.html", "dash.title", d)
}

func (s *Server) apiDashboard(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		writeError(w, http.StatusBadRequest, "bad query: no parameters accepted")
		return
	}
	d, err := s.dashboard(r.Context())
	if err != nil {
		s.opts.Logger.Error("dashboard", "err", err)
		writeError(w, http.StatusInternalServerError, "query failed")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

var (
	sha256RE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hashRE      = regexp.MustCompile(`^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$`)
	sessionIDRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

type sessionView struct {
	Session  *store.Session
	Events   []*event.Event
	Commands []string
}

func (s *Server) loadSession(ctx context.Context, c access.Caller, id string) (*sessionView, error) {
	sess, err := s.opts.Store.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	page, err := s.opts.Store.Events(ctx, store.EventQuery{Session: id, Ascending: true, Limit: 1000})
	if err != nil {
		return nil, err
	}
	v := &sessionView{Session: sess, Events: c.Filter(page.Events)}
	for _, e := range page.Events {
		if e.Kind == "command.input" {
			v.Commands = append(v.Commands, event.EscapeInvalid(e.Text("input")))
		}
	}
	return v, nil
}

func (s *Server) pageSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !sessionIDRE.MatchString(id) {
		http.Error(w, "bad session id", http.StatusBadRequest)
		return
	}
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	v, err := s.loadSession(r.Context(), c, id)
	if s.pageErr(w, err) {
		return
	}
	s.render(w, r, http.StatusOK, "session.html", "session.title", v)
}

// pageErr answers a lookup error on an HTML page; true when it did.
func (s *Server) pageErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
	default:
		s.opts.Logger.Error("page", "err", err)
		http.Error(w, "query failed", http.StatusInternalServerError)
	}
	return true
}

// apiErr answers a lookup error in JSON; true when it did.
func (s *Server) apiErr(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, "bad cursor: not one this server issued")
	default:
		s.opts.Logger.Error("api", "err", err)
		writeError(w, http.StatusInternalServerError, "query failed")
	}
	return true
}

type sampleView struct {
	Sample *store.Sample
	Report *store.Report
	Pretty string
}

func (s *Server) loadSample(ctx context.Context, sha string) (*sampleView, error) {
	smp, err := s.opts.Store.Sample(ctx, sha)
	if err != nil {
		return nil, err
	}
	v := &sampleView{Sample: smp}
	if rep, err := s.opts.Store.Report(ctx, sha); err == nil {
		v.Report = rep
		var x any
		if json.Unmarshal(rep.Report, &x) == nil {
			b, _ := json.MarshalIndent(x, "", "  ")
			if len(b) > 256<<10 {
				b = append(b[:256<<10], "\n…"...)
			}
			v.Pretty = string(b)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return v, nil
}

func (s *Server) pageSample(w http.ResponseWriter, r *http.Request) {
	sha := strings.ToLower(r.PathValue("sha256"))
	if !sha256RE.MatchString(sha) {
		http.Error(w, "bad sha256", http.StatusBadRequest)
		return
	}
	v, err := s.loadSample(r.Context(), sha)
	if s.pageErr(w, err) {
		return
	}
	s.render(w, r, http.StatusOK, "sample.html", "sample.title", v)
}

func (s *Server) pageURL(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("u")
	if raw == "" || len(raw) > 2048 {
		http.Error(w, "bad u: want a URL of 1..2048 bytes", http.StatusBadRequest)
		return
	}
	u, err := s.opts.Store.URL(r.Context(), raw)
	if s.pageErr(w, err) {
		return
	}
	s.render(w, r, http.StatusOK, "url.html", "url.title", u)
}

// SearchResult is what /search and /api/v1/search find for a query.
type SearchResult struct {
	Query    string          `json:"query"`
	Type     string          `json:"type"` // ip, hash, url
	Sessions []store.Session `json:"sessions,omitempty"`
	Sample   *store.Sample   `json:"sample,omitempty"`
	URL      *store.URL      `json:"url,omitempty"`
}

// ParseSearch classifies a search query: an IP address, a hex hash
// (MD5/SHA-1/SHA-256) or a URL.
func ParseSearch(q string) (typ, norm string, err error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", "", errBadQuery{"q", "empty"}
	case len(q) > 2048:
		return "", "", errBadQuery{"q", "too long"}
	}
	if a, err := netip.ParseAddr(q); err == nil {
		return "ip", a.Unmap().String(), nil
	}
	if l := strings.ToLower(q); hashRE.MatchString(l) {
		return "hash", l, nil
	}
	if strings.Contains(q, "://") || strings.Contains(q, "/") || strings.Contains(q, ".") {
		return "url", q, nil
	}
	return "", "", errBadQuery{"q", "want an IP address, an MD5/SHA-1/SHA-256 hash or a URL"}
}

func (s *Server) search(ctx context.Context, q string) (*SearchResult, error) {
	typ, norm, err := ParseSearch(q)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Query: norm, Type: typ}
	switch typ {
	case "ip":
		res.Sessions, err = s.opts.Store.SessionsByIP(ctx, netip.MustParseAddr(norm), 100)
	case "hash":
		res.Sample, err = s.opts.Store.SampleByHash(ctx, norm)
	case "url":
		res.URL, err = s.opts.Store.URL(ctx, norm)
	}
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	return res, err
}

type searchView struct {
	Q      string
	Result *SearchResult
	Error  string
}

func (s *Server) pageSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	v := searchView{Q: q}
	status := http.StatusOK
	if q != "" {
		res, err := s.search(r.Context(), q)
		var bad errBadQuery
		switch {
		case errors.As(err, &bad):
			v.Error, status = bad.Error(), http.StatusBadRequest
		case err != nil:
			s.opts.Logger.Error("search", "err", err)
			http.Error(w, "query failed", http.StatusInternalServerError)
			return
		}
		v.Result = res
	}
	s.render(w, r, status, "search.html", "search.title", v)
}
