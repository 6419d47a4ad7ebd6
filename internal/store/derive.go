package store

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
)

// The rules by which a driver derives its tables from newly stored events.
// They live here, apart from the SQL that applies them, so that every
// driver derives the same rows from the same events.

// FloatOf is a number from event data as float64 (JSON numbers decode as
// float64, events built in process may hold ints); 0 for anything else.
func FloatOf(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

// URLHost is the host name in a raw URL, "" when it does not parse.
func URLHost(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Hostname()
	}
	return ""
}

// URLStatus is what a download.ok or download.failed event says about its
// URL: online when the fetch succeeded; unknown when the fetcher did not
// try (a refused address, fetching disabled, rate limited), which says
// nothing about the server; offline otherwise.
func URLStatus(e *event.Event) string {
	switch {
	case e.Kind == "download.ok":
		return "online"
	case e.Str("error") == "refused-address" || e.Str("error") == "fetcher-disabled" || e.Str("error") == "rate-limited":
		return "unknown"
	}
	return "offline"
}

// MaxKey bounds attacker-chosen keys (credentials, countries, families) in
// the dashboard's counter table.
const MaxKey = 64

// Clip cuts s to MaxKey bytes.
func Clip(s string) string {
	if len(s) > MaxKey {
		return s[:MaxKey]
	}
	return s
}

// PortalCounts calls add for each dashboard counter (dimension and key;
// key "" is the day's total) that e adds one to on its UTC day. New
// samples count too, but only the driver can tell whether a sample is new,
// so it adds ("samples", "") itself.
func PortalCounts(e *event.Event, add func(dim, key string)) {
	add("events", "")
	switch e.Kind {
	case "session.connect":
		add("port", strconv.Itoa(int(e.DstPort))+"/"+e.Honeypot)
		add("honeypot", e.Honeypot)
		if c := e.Str("src_country"); c != "" {
			add("country", Clip(c))
		}
		if a := e.Int("src_asn"); a > 0 {
			add("asn", strconv.FormatInt(a, 10))
		}
	case "amp.request", "amp.scan":
		// Requests to the reflectors: the abused UDP services.
		add("port", strconv.Itoa(int(e.DstPort))+"/"+e.Honeypot)
	case "login.failed", "login.success":
		add("login", "")
		add("cred", Clip(e.Text("username"))+":"+Clip(e.Text("password")))
	case "amp.attack.start":
		add("attacks", "")
		add("attack_proto", Clip(e.Str("protocol")))
		c := e.Str("src_country")
		if c == "" {
			c = "??"
		}
		add("attack_country", Clip(c))
	case "analysis.report":
		if f := e.Str("family"); f != "" {
			add("family", Clip(f))
		}
	}
}

// HostResult is what a scan.result event says about one service, as the
// hosts table keeps it.
type HostResult struct {
	Service, Vendor, Product, DeviceType, Class string
	Transport, Template                         string
	// Findings and Labels are the event's lists as it holds them; store
	// them with JSONList.
	Findings, Labels any
}

// HostResultOf reads a scan.result event about a valid address. The
// service is the first, by name, of the modules that succeeded; the
// transport is tcp unless the event names another.
func HostResultOf(e *event.Event) (HostResult, bool) {
	if e.Kind != "scan.result" || !e.DstIP.IsValid() {
		return HostResult{}, false
	}
	h := HostResult{Transport: e.Transport, Template: e.Str("template"), Findings: e.Data["findings"], Labels: e.Data["labels"]}
	if data, ok := e.Data["data"].(map[string]any); ok {
		for name, v := range data {
			if m, ok := v.(map[string]any); ok && m["status"] == "success" && (h.Service == "" || name < h.Service) {
				h.Service = name
			}
		}
	}
	cl, _ := e.Data["classification"].(map[string]any)
	str := func(k string) string { s, _ := cl[k].(string); return s }
	h.Vendor, h.Product, h.DeviceType, h.Class = str("vendor"), str("product"), str("device_type"), str("class")
	if h.Transport == "" {
		h.Transport = "tcp"
	}
	return h, true
}

// MergeGap is how far apart two sensors' views of one victim and protocol
// may be and still be one attack: AmpPot's gap timeout.
const MergeGap = time.Hour

// AttackPart is one sensor's view of an amplification attack, which the
// drivers merge with other views of the same victim and protocol.
type AttackPart struct {
	ID       string
	Victim   netip.Addr
	Protocol string
	Start    time.Time
	Last     time.Time
	Ended    bool
}

// AttackPartOf reads an amp.attack.start, .update or .end event. The victim
// is the event's victim_ip, else its source address (the spoofed source
// is the victim); start and end default to the event's time. It is false
// for other events and for views without an id, victim or protocol.
func AttackPartOf(e *event.Event) (AttackPart, bool) {
	switch e.Kind {
	case "amp.attack.start", "amp.attack.update", "amp.attack.end":
	default:
		return AttackPart{}, false
	}
	p := AttackPart{ID: e.Str("attack_id"), Victim: e.SrcIP, Protocol: e.Str("protocol"), Start: e.Time, Last: e.Time, Ended: e.Kind == "amp.attack.end"}
	if v, err := netip.ParseAddr(e.Str("victim_ip")); err == nil {
		p.Victim = v
	}
	if p.ID == "" || !p.Victim.IsValid() || p.Protocol == "" {
		return AttackPart{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, e.Str("start")); err == nil {
		p.Start = t
	}
	if t, err := time.Parse(time.RFC3339Nano, e.Str("end")); err == nil {
		p.Last = t
	}
	return p, true
}

// ReportStatus is an analysis.report event's status: done unless it
// names another (failed).
func ReportStatus(e *event.Event) string {
	if s := e.Str("status"); s != "" {
		return s
	}
	return "done"
}

// ReportJSON is the report an analysis.report event carries, {} when it
// carries none.
func ReportJSON(e *event.Event) ([]byte, error) {
	r, ok := e.Data["report"]
	if !ok {
		return []byte("{}"), nil
	}
	return json.Marshal(r)
}

// ReportC2 is a command-and-control server an analysis report names.
type ReportC2 struct {
	Host   string
	Port   int
	Source string // sandbox or static
	Indicated
}

// Indicated is how a report learned an indicator: its observed kind,
// confidence, and whether the worker found it corroborated (intel.Select).
type Indicated struct {
	Observed   string
	Confidence int
	Publish    bool
}

func indicated(m map[string]any) Indicated {
	in := Indicated{Observed: "legacy-report"}
	if o, _ := m["observed"].(string); o != "" {
		in.Observed = o
	}
	in.Confidence = min(max(int(FloatOf(m["confidence"])), 0), 100)
	in.Publish, _ = m["publish"].(bool)
	return in
}

// Review is the state a new indicator from a report starts in:
// published when corroborated and not a well-known service, else pending
// (allowlisted for well-known services). The worker has already left out
// decoys and addresses that are not public (intel.Select).
func (in Indicated) Review(host string) string {
	switch {
	case intel.WellKnown(host) != "":
		return ReviewAllowlisted
	case in.Publish:
		return ReviewPublished
	}
	return ReviewPending
}

// SessionURLReview is the state of a URL a bot fetched in a session:
// published, unless its host is a well-known service.
func SessionURLReview(raw string) string {
	if intel.WellKnown(URLHost(raw)) != "" {
		return ReviewAllowlisted
	}
	return ReviewPublished
}

// ReportC2s lists the C2s in an analysis.report event that have a host and
// a port in range.
func ReportC2s(e *event.Event) []ReportC2 {
	list, _ := e.Data["c2"].([]any)
	var out []ReportC2
	for _, x := range list {
		m, _ := x.(map[string]any)
		host, _ := m["host"].(string)
		port := FloatOf(m["port"])
		source, _ := m["source"].(string)
		if host == "" || port <= 0 || port > 65535 {
			continue
		}
		out = append(out, ReportC2{Host: host, Port: int(port), Source: source, Indicated: indicated(m)})
	}
	return out
}

// maxReportURL bounds the URLs a report may add: longer ones are more
// likely junk from a string dump than a download location.
const maxReportURL = 2048

// ReportURL is a URL an analysis report names.
type ReportURL struct {
	URL string
	Indicated
}

// ReportURLs lists the URLs an analysis.report event names, leaving out
// empty and overlong ones. A bare string (reports before provenance) is
// of unknown provenance and so never published without review.
func ReportURLs(e *event.Event) []ReportURL {
	list, _ := e.Data["urls"].([]any)
	var out []ReportURL
	for _, x := range list {
		var u ReportURL
		switch v := x.(type) {
		case string:
			u = ReportURL{URL: v, Indicated: Indicated{Observed: "legacy-report"}}
		case map[string]any:
			raw, _ := v["url"].(string)
			u = ReportURL{URL: raw, Indicated: indicated(v)}
		}
		if u.URL == "" || len(u.URL) > maxReportURL {
			continue
		}
		out = append(out, u)
	}
	return out
}

// CheckReview validates an admin's review decision.
func CheckReview(kind, state string) error {
	if kind != "url" && kind != "c2" {
		return fmt.Errorf("store: review: kind %q is neither url nor c2", kind)
	}
	switch state {
	case ReviewPublished, ReviewPending, ReviewRejected:
		return nil
	}
	return fmt.Errorf("store: review: state %q is not published, pending or rejected", state)
}
