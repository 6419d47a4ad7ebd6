package web

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Hosts are the scanner's view of devices on the Internet, with findings
// such as an unauthenticated water-gate logger. A public list of them is a
// target list, so addresses, site labels and per-host rows go only to API
// key holders (the victims' scope, feeds:read) and logged-in admins;
// everyone else gets counts.

const (
	hostTop       = 20  // keys per summary dimension
	hostTemplates = 50  // template clusters shown
	hostLabels    = 20  // labels shown per cluster
	hostServices  = 200 // services shown for one address
)

// ParseHostQuery turns /api/v1/hosts (and /hosts) parameters into a store
// query; lang is accepted so the page's language switch keeps its filters.
func ParseHostQuery(v url.Values) (store.HostQuery, error) {
	var q store.HostQuery
	p, err := parseListParams(v, "class", "finding", "product", "template", "prefix", "ip", "lang")
	if err != nil {
		return q, err
	}
	q.Since, q.After, q.Limit = p.Since, p.After, p.Limit
	q.Class, q.Finding, q.Product, q.Template = v.Get("class"), v.Get("finding"), v.Get("product"), v.Get("template")
	ps, is := v.Get("prefix"), v.Get("ip")
	switch {
	case ps != "" && is != "":
		return q, errBadQuery{"prefix", "give prefix or ip, not both"}
	case ps != "":
		if q.Prefix, err = netip.ParsePrefix(ps); err != nil {
			// A bare address is the prefix of just that address.
			a, aerr := netip.ParseAddr(ps)
			if aerr != nil || a.Zone() != "" {
				return q, errBadQuery{"prefix", "want a CIDR prefix such as 192.0.2.0/24"}
			}
			q.Prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		q.Prefix = q.Prefix.Masked()
	case is != "":
		a, err := netip.ParseAddr(is)
		if err != nil || a.Zone() != "" {
			return q, errBadQuery{"ip", "not an IP address"}
		}
		q.IP = a.Unmap()
	}
	return q, nil
}

// filtered says whether q asks about particular hosts rather than all.
func filtered(q store.HostQuery) bool {
	return q.IP.IsValid() || q.Prefix.IsValid() || q.Class != "" || q.Finding != "" || q.Product != "" || q.Template != "" || q.After != ""
}

// hostDetail says whether the request may see addresses and labels: the
// /admin/hosts pages (behind withAdmin; the admin cookie is scoped to
// /admin) and requests with a feeds:read key. A key that is sent but
// unknown or lacks the scope is answered 401/403 (ok is false) rather than
// quietly downgraded to counts.
func (s *Server) hostDetail(w http.ResponseWriter, r *http.Request) (detail, ok bool) {
	c, ok := s.caller(w, r)
	if !ok {
		return false, false
	}
	if c.May(access.Exposure) {
		if !c.Admin {
			s.audit(r.Context(), auditName(c), "hosts.read", r.URL.RawQuery)
		}
		return true, true
	}
	if c.KeyID != "" {
		deny(w, c, access.Exposure)
		return false, false
	}
	return false, true
}

// hostsBase is where the hosts pages of this request live: the admin's
// copy under /admin, where the session cookie is sent.
func hostsBase(r *http.Request) string {
	if adminFrom(r) != nil {
		return "/admin/hosts"
	}
	return "/hosts"
}

// hostAggregate is what anonymous callers see.
type hostAggregate struct {
	Summary   *store.HostSummary   `json:"summary"`
	Templates []store.HostTemplate `json:"templates"`
}

// aggCache keeps the hosts aggregates for a while: the counts read every
// matching row (a second or so with half a million services), and anyone
// may ask for them. A value past its time is still served while one
// refresh runs in the background, so no request waits for a recount but
// the first of its kind.
type aggCache struct {
	mu sync.Mutex
	m  map[aggKey]*aggEntry
}

type aggKey struct {
	since      time.Time // truncated to the minute
	withLabels bool      // key holders' and admins' variant
}

type aggEntry struct {
	at         time.Time
	agg        *hostAggregate
	refreshing bool
}

const aggTTL = 30 * time.Second

// aggregate loads the counts and the template clusters, through the cache;
// the clusters keep their labels only when withLabels.
func (s *Server) aggregate(ctx context.Context, since time.Time, withLabels bool) (*hostAggregate, error) {
	k := aggKey{since.Truncate(time.Minute), withLabels}
	c := &s.hostAgg
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		if time.Since(e.at) >= aggTTL && !e.refreshing {
			e.refreshing = true
			// The recount outlives the request but not the server: Run
			// cancels it and waits for it at shutdown.
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				s.refreshAggregate(s.runContext(ctx), k)
			}()
		}
		return e.agg, nil
	}
	// The first request of its kind computes while holding the lock, so
	// a burst of them costs one computation.
	agg, err := s.loadAggregate(ctx, k.since, withLabels)
	if err != nil {
		return nil, err
	}
	if c.m == nil || len(c.m) >= 16 {
		c.m = map[aggKey]*aggEntry{}
	}
	c.m[k] = &aggEntry{at: time.Now(), agg: agg}
	return agg, nil
}

func (s *Server) refreshAggregate(ctx context.Context, k aggKey) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	agg, err := s.loadAggregate(ctx, k.since, k.withLabels)
	c := &s.hostAgg
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return // the cache was cleared meanwhile
	}
	e.refreshing = false
	if err != nil {
		s.opts.Logger.Error("hosts aggregates", "err", err)
		return
	}
	e.at, e.agg = time.Now(), agg
}

func (s *Server) loadAggregate(ctx context.Context, since time.Time, withLabels bool) (*hostAggregate, error) {
	sum, err := s.opts.Store.HostSummary(ctx, since, hostTop)
	if err != nil {
		return nil, err
	}
	labels := hostLabels
	if !withLabels {
		labels = 0
	}
	tpls, err := s.opts.Store.HostTemplates(ctx, since, hostTemplates, labels)
	if err != nil {
		return nil, err
	}
	for i := range tpls {
		if !withLabels {
			tpls[i].Labels = nil
		}
	}
	return &hostAggregate{Summary: sum, Templates: tpls}, nil
}

func (s *Server) apiHosts(w http.ResponseWriter, r *http.Request) {
	q, err := ParseHostQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	detail, ok := s.hostDetail(w, r)
	if !ok {
		return
	}
	if !detail {
		if filtered(q) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kansoku"`)
			writeError(w, http.StatusUnauthorized, "filtering hosts needs an API key with feeds:read; without one only aggregate counts are shown")
			return
		}
		agg, err := s.aggregate(r.Context(), q.Since, false)
		if s.apiErr(w, err) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"detail": "aggregate", "summary": agg.Summary, "templates": agg.Templates})
		return
	}
	list, err := s.opts.Store.Hosts(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	list, next := page(list, q.Limit, func(x store.Host) string { return x.Cursor })
	writeJSON(w, http.StatusOK, map[string]any{"detail": "hosts", "hosts": list, "next": next})
}

// hostsView is the /hosts page.
type hostsView struct {
	Base     string // /hosts or /admin/hosts
	Detail   bool
	Agg      *hostAggregate
	Hosts    []store.Host
	Filter   store.HostQuery
	Prefix   string // the prefix or address as typed, for the form
	Error    string
	NextURL  string
	Classes  []string
	Findings []string
}

func (s *Server) pageHosts(w http.ResponseWriter, r *http.Request) {
	detail, ok := s.hostDetail(w, r)
	if !ok {
		return
	}
	v := hostsView{Base: hostsBase(r), Detail: detail, Prefix: r.URL.Query().Get("prefix")}
	if v.Prefix == "" {
		v.Prefix = r.URL.Query().Get("ip")
	}
	status := http.StatusOK
	q, err := ParseHostQuery(r.URL.Query())
	if err != nil {
		v.Error, status = err.Error(), http.StatusBadRequest
		q = store.HostQuery{Limit: 100}
	}
	v.Filter = q
	agg, err := s.aggregate(r.Context(), q.Since, detail)
	if s.pageErr(w, err) {
		return
	}
	v.Agg = cleanAggregate(agg)
	for _, c := range agg.Summary.ByClass {
		v.Classes = append(v.Classes, c.Key)
	}
	for _, c := range agg.Summary.ByFinding {
		v.Findings = append(v.Findings, c.Key)
	}
	if detail && v.Error == "" {
		list, err := s.opts.Store.Hosts(r.Context(), q)
		if s.pageErr(w, err) {
			return
		}
		for _, h := range list {
			v.Hosts = append(v.Hosts, cleanHost(h))
		}
		if len(list) > 0 {
			if c := nextCursor(len(list), q.Limit, list[len(list)-1].Cursor); c != "" {
				nq := r.URL.Query()
				nq.Set("cursor", c)
				v.NextURL = (&url.URL{Path: v.Base, RawQuery: nq.Encode()}).String()
			}
		}
	}
	s.render(w, r, status, "hosts.html", "hosts.title", v)
}

// hostView is the /hosts/{ip} page.
type hostView struct {
	Base     string
	IP       string
	Services []store.Host
}

func (s *Server) pageHost(w http.ResponseWriter, r *http.Request) {
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil || ip.Zone() != "" {
		http.Error(w, "bad address", http.StatusBadRequest)
		return
	}
	detail, ok := s.hostDetail(w, r)
	if !ok {
		return
	}
	if !detail {
		http.Error(w, "one address's services are shown only to API key holders and logged-in admins", http.StatusForbidden)
		return
	}
	ip = ip.Unmap()
	list, err := s.opts.Store.Hosts(r.Context(), store.HostQuery{IP: ip, Limit: hostServices})
	if s.pageErr(w, err) {
		return
	}
	if len(list) == 0 {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	v := hostView{Base: hostsBase(r), IP: ip.String()}
	for _, h := range list {
		v.Services = append(v.Services, cleanHost(h))
	}
	s.render(w, r, http.StatusOK, "host.html", "host.title", v)
}

// cleanHost makes a host's device-controlled strings valid UTF-8 (invalid
// bytes shown as \xNN) for pages; html/template escapes the rest.
func cleanHost(h store.Host) store.Host {
	c := event.EscapeInvalid
	h.Service, h.Vendor, h.Product, h.DeviceType, h.Class, h.Template = c(h.Service), c(h.Vendor), c(h.Product), c(h.DeviceType), c(h.Class), c(h.Template)
	h.Findings, h.Labels = cleanAll(h.Findings), cleanAll(h.Labels)
	return h
}

func cleanAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = event.EscapeInvalid(s)
	}
	return out
}

func cleanCounts(cs []store.Count) []store.Count {
	out := make([]store.Count, len(cs))
	for i, c := range cs {
		out[i] = store.Count{Key: event.EscapeInvalid(c.Key), N: c.N}
	}
	return out
}

func cleanAggregate(a *hostAggregate) *hostAggregate {
	sum := *a.Summary
	sum.ByClass, sum.ByFinding, sum.ByProduct = cleanCounts(sum.ByClass), cleanCounts(sum.ByFinding), cleanCounts(sum.ByProduct)
	out := &hostAggregate{Summary: &sum}
	for _, t := range a.Templates {
		t.Template, t.Product, t.Labels = event.EscapeInvalid(t.Template), event.EscapeInvalid(t.Product), cleanAll(t.Labels)
		out.Templates = append(out.Templates, t)
	}
	return out
}
