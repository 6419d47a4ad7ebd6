package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/source"
	"github.com/kansoku/kansoku/internal/store"
)

// Verdicts of the infection check.
const (
	VerdictLikelyInfected = "likely-infected"
	VerdictExposed        = "exposed"
	VerdictNothingSeen    = "nothing-seen"
)

// Finding is one observation about the checked address.
type Finding struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Honeypot string    `json:"honeypot"`
	Port     uint16    `json:"port,omitempty"`
	Family   string    `json:"family,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Session  string    `json:"session,omitempty"`
}

// CheckResult is what /check shows and /api/v1/check returns.
type CheckResult struct {
	IP       string    `json:"ip"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Verdict  string    `json:"verdict"`
	Activity []Finding `json:"honeypot_activity"`
	Attacks  []Finding `json:"attacks_against"`
	Exposed  []Finding `json:"exposed_services"`
	// Advice lists message keys (advice.*) in the order to follow them;
	// the page shows them translated.
	Advice []string `json:"advice"`
	// AdviceText is Advice in the caller's language (API only).
	AdviceText []string `json:"advice_text,omitempty"`
	Lang       string   `json:"lang,omitempty"`
	Families   []string `json:"families,omitempty"`
	Notice     string   `json:"notice"`
	Days       int      `json:"window_days"`
}

// maxCheckEvents bounds the work of one check.
const maxCheckEvents = 500

// infectionKinds are what an infected device does to a honeypot (a bare
// connection is not enough: scanners of all kinds connect).
func infectionKind(e *event.Event) bool {
	if exploitNames(e) != "" {
		return e.Honeypot != "scan" && e.Honeypot != "amp"
	}
	switch {
	case strings.HasPrefix(e.Kind, "login."), strings.HasPrefix(e.Kind, "exploit."), strings.HasPrefix(e.Kind, "command."),
		strings.HasPrefix(e.Kind, "download."), e.Kind == "sample.captured", e.Kind == "rpc.call":
		return e.Honeypot != "scan" && e.Honeypot != "amp"
	}
	return false
}

// scanDetail summarises a scan.result: the answering services, the
// device classification and the findings.
func scanDetail(e *event.Event) string {
	var parts []string
	if data, ok := e.Data["data"].(map[string]any); ok {
		var svc []string
		for name, v := range data {
			if m, ok := v.(map[string]any); ok && m["status"] == "success" {
				svc = append(svc, name)
			}
		}
		sort.Strings(svc)
		parts = append(parts, svc...)
	}
	if cl, ok := e.Data["classification"].(map[string]any); ok {
		for _, k := range []string{"vendor", "product", "device_type"} {
			if v, _ := cl[k].(string); v != "" {
				parts = append(parts, v)
			}
		}
	}
	for _, k := range []string{"service", "product"} {
		if v := e.Str(k); v != "" {
			parts = append(parts, v)
		}
	}
	if fl, ok := e.Data["findings"].([]any); ok {
		for _, x := range fl {
			switch v := x.(type) {
			case string:
				parts = append(parts, v)
			case map[string]any:
				if id, _ := v["id"].(string); id != "" {
					parts = append(parts, id)
				}
			}
		}
	}
	d := strings.Join(parts, " ")
	if len(d) > 300 {
		d = d[:300] + "…"
	}
	return d
}

// exploitNames lists the exploit signatures matched on an event (the
// intel matcher's `exploits` list: id, name, cves), "" when none.
func exploitNames(e *event.Event) string {
	list, _ := e.Data["exploits"].([]any)
	var names []string
	for _, x := range list {
		m, _ := x.(map[string]any)
		n, _ := m["name"].(string)
		if n == "" {
			n, _ = m["id"].(string)
		}
		if cves, ok := m["cves"].([]any); ok && len(cves) > 0 {
			if c, ok := cves[0].(string); ok {
				n += " (" + c + ")"
			}
		}
		if n != "" && len(names) < 5 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func (s *Server) check(ctx context.Context, ip netip.Addr, now time.Time, window time.Duration) (*CheckResult, error) {
	return Check(ctx, s.opts.Store, ip, now, window)
}

// Check builds the infection check for ip over the window before now from
// index-backed store lookups only (the page, the API and `kansoku check`
// share it).
func Check(ctx context.Context, st store.Store, ip netip.Addr, now time.Time, window time.Duration) (*CheckResult, error) {
	since := now.Add(-window)
	res := &CheckResult{IP: ip.String(), Since: since.UTC(), Until: now.UTC(), Days: int(window / (24 * time.Hour)),
		Activity: []Finding{}, Attacks: []Finding{}, Exposed: []Finding{}}
	evs, err := st.AddressEvents(ctx, ip, since, maxCheckEvents)
	if err != nil {
		return nil, err
	}
	families := map[string]bool{}
	persistent := false
	telnet := false
	reports := map[string]*store.Report{}
	for _, e := range evs {
		f := Finding{Time: e.Time, Kind: e.Kind, Honeypot: e.Honeypot, Port: e.DstPort, Session: e.Session}
		switch {
		case e.Honeypot == "scan" && e.DstIP == ip:
			f.Detail = scanDetail(e)
			res.Exposed = append(res.Exposed, f)
		case strings.HasPrefix(e.Kind, "amp.attack."):
			f.Detail = e.Str("protocol")
			f.Port = uint16(e.Int("port"))
			res.Attacks = append(res.Attacks, f)
		case infectionKind(e):
			if e.DstPort == 23 || e.DstPort == 2323 || e.Honeypot == "telnet" {
				telnet = true
			}
			if sha := e.Str("sha256"); len(sha) == 64 && e.Kind == "sample.captured" {
				r, ok := reports[sha]
				if !ok && len(reports) < 20 {
					r, _ = st.Report(ctx, sha)
					reports[sha] = r
				}
				if r != nil {
					f.Family = r.Family
					persistent = persistent || reportPersistent(r.Report)
				}
			}
			if f.Family == "" {
				f.Family = e.Str("family")
			}
			f.Detail = exploitNames(e)
			if f.Family != "" {
				families[f.Family] = true
			}
			res.Activity = append(res.Activity, f)
		}
	}
	switch {
	case len(res.Activity) > 0:
		res.Verdict = VerdictLikelyInfected
	case len(res.Exposed) > 0:
		res.Verdict = VerdictExposed
	default:
		res.Verdict = VerdictNothingSeen
	}
	for f := range families {
		res.Families = append(res.Families, f)
	}
	if len(res.Activity) > 0 {
		res.Advice = append(res.Advice, "advice.reboot", "advice.passwords")
		if telnet {
			res.Advice = append(res.Advice, "advice.telnet")
		}
		res.Advice = append(res.Advice, "advice.firmware")
		if persistent {
			res.Advice = append(res.Advice, "advice.factory_reset")
		}
	}
	if len(res.Exposed) > 0 {
		res.Advice = append(res.Advice, "advice.exposed", "advice.firmware")
	}
	if len(res.Attacks) > 0 {
		res.Advice = append(res.Advice, "advice.amp")
	}
	if len(res.Advice) > 0 {
		res.Advice = append(res.Advice, "advice.isp")
	}
	res.Advice = dedupeStrings(res.Advice)
	res.Notice = Message("en", "check.shared")
	return res, nil
}

func dedupeStrings(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// reportPersistent reads the sandbox's persistence verdict from a report.
func reportPersistent(raw json.RawMessage) bool {
	var r struct {
		Dynamic struct {
			Persistence struct {
				Verdict string `json:"verdict"`
			} `json:"persistence"`
		} `json:"dynamic"`
	}
	return json.Unmarshal(raw, &r) == nil && r.Dynamic.Persistence.Verdict == "persistent"
}

// rateLimiter limits the infection check and admin logins per source
// (IPv6 grouped by /64) with a bounded LRU of token buckets; perMin < 0
// means unlimited.
type rateLimiter struct{ l *source.Limiters }

// maxLimited bounds the sources remembered; a flood of fresh addresses
// forgets the least recently seen ones, never everyone at once.
const maxLimited = 100000

func newRateLimiter(perMin int) *rateLimiter {
	if perMin < 0 {
		return &rateLimiter{}
	}
	return &rateLimiter{l: source.PerMinute(perMin, source.DefaultIPv6Prefix, maxLimited)}
}

func (r *rateLimiter) allow(ip netip.Addr, now time.Time) bool {
	return r.l == nil || r.l.Allow(ip, now)
}

// checkFor runs the check for the visitor's own address (ClientIP), never
// one from a parameter.
func (s *Server) checkFor(w http.ResponseWriter, r *http.Request) (*CheckResult, int, string) {
	ip := s.ClientIP(r)
	if !ip.IsValid() {
		return nil, http.StatusBadRequest, "cannot tell your address"
	}
	if !s.limit.allow(ip, time.Now()) {
		w.Header().Set("Retry-After", "60")
		return nil, http.StatusTooManyRequests, "too many checks from your address; try again in a minute"
	}
	res, err := s.check(r.Context(), ip, time.Now(), s.opts.CheckWindow)
	if err != nil {
		s.opts.Logger.Error("check", "err", err)
		return nil, http.StatusInternalServerError, "query failed"
	}
	return res, 0, ""
}

func (s *Server) apiCheck(w http.ResponseWriter, r *http.Request) {
	res, status, msg := s.checkFor(w, r)
	if res == nil {
		writeError(w, status, msg)
		return
	}
	s.localise(w, r, res)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
}

// localise fills the texts of an API answer in the caller's language.
func (s *Server) localise(w http.ResponseWriter, r *http.Request, res *CheckResult) {
	res.Lang = pickLang(w, r)
	fam := strings.Join(res.Families, ", ")
	res.AdviceText = res.AdviceText[:0]
	for _, k := range res.Advice {
		res.AdviceText = append(res.AdviceText, s.cat.msg(res.Lang, k, "family", fam))
	}
	res.Notice = s.cat.msg(res.Lang, "check.shared")
}

func (s *Server) pageCheck(w http.ResponseWriter, r *http.Request) {
	res, status, msg := s.checkFor(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if res == nil {
		http.Error(w, msg, status)
		return
	}
	s.render(w, r, http.StatusOK, "check.html", "check.title", res)
}

// apiCheckAny lets a CSIRT key query addresses inside its prefixes.
func (s *Server) apiCheckAny(w http.ResponseWriter, r *http.Request) {
	c, ok := s.allow(w, r, access.Lookup)
	if !ok {
		return
	}
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad ip: not an IP address")
		return
	}
	ip = ip.Unmap()
	if !c.MayLookup(ip) {
		writeError(w, http.StatusForbidden, "address outside this key's prefixes")
		return
	}
	window := s.opts.CheckWindow
	if d := r.URL.Query().Get("days"); d != "" {
		days, err := strconv.Atoi(d)
		if err != nil || days < 1 || days > 90 {
			writeError(w, http.StatusBadRequest, "bad days: must be 1..90")
			return
		}
		window = time.Duration(days) * 24 * time.Hour
	}
	res, err := s.check(r.Context(), ip, time.Now(), window)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		s.opts.Logger.Error("check", "err", err)
		writeError(w, http.StatusInternalServerError, "query failed")
		return
	}
	_ = s.opts.Store.Audit(r.Context(), auditName(c), "check", ip.String())
	s.localise(w, r, res)
	writeJSON(w, http.StatusOK, res)
}
