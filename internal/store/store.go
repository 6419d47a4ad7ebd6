// Package store is the interface between kansoku's data and everything that
// reads or writes it: the collector (the only writer of events) and the
// portal. Sensors never see it. Implementations live in subpackages
// (sqlite, postgres). What they share that holds no SQL lives here, so that
// both behave alike: cursors (cursor.go), page limits (page.go), the rules
// that derive tables from events (derive.go, lists.go) and the dashboard's
// assembly (dashboard.go).
package store

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// ErrNotFound is returned for a missing session, sample or URL.
var ErrNotFound = errors.New("store: not found")

// ErrBadCursor is returned for a page cursor the store did not issue.
var ErrBadCursor = errors.New("store: bad cursor")

// Store is what the collector and portal use.
type Store interface {
	// InsertEvents stores the events whose id is not stored yet, and updates
	// the derived tables (sessions, samples, URLs, daily aggregates) for
	// those only, in one transaction. It returns the events that were new.
	InsertEvents(ctx context.Context, evs []*event.Event) ([]*event.Event, error)
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	Stats(ctx context.Context, q StatsQuery) (*Stats, error)
	Session(ctx context.Context, id string) (*Session, error)
	Sample(ctx context.Context, sha256 string) (*Sample, error)
	Samples(ctx context.Context, q ListQuery) ([]Sample, error)
	URLs(ctx context.Context, q ListQuery) ([]URL, error)
	ReportStore
	HostStore
	AttackStore
	ExploitStore
	C2s(ctx context.Context, q ListQuery) ([]C2, error)
	// ReviewIndicator sets the review state of a URL (kind "url", port 0)
	// or C2 (kind "c2"): an admin publishing or rejecting it.
	ReviewIndicator(ctx context.Context, kind, value string, port uint16, state string) error
	PortalStore
	Close() error
}

// EventQuery filters /api/v1/events. Zero values do not filter.
type EventQuery struct {
	Since, Until time.Time
	Sensor       string
	Honeypot     string
	Kind         string
	SrcIP        netip.Addr
	Session      string
	// After is the cursor of the previous page; pages go newest first
	// unless Ascending.
	After     string
	Ascending bool
	Limit     int
}

// EventPage is one page of events and the cursor of the next ("" at the end).
type EventPage struct {
	Events []*event.Event `json:"events"`
	Next   string         `json:"next,omitempty"`
}

// StatsQuery bounds the statistics window.
type StatsQuery struct{ Since, Until time.Time }

// Count is one labelled number.
type Count struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

// Stats are aggregate counts over a window.
type Stats struct {
	Total      int64   `json:"total"`
	ByHoneypot []Count `json:"by_honeypot"`
	ByKind     []Count `json:"by_kind"`
	ByDay      []Count `json:"by_day"`
	ByCountry  []Count `json:"by_country"`
}

// Session is one connection to a sensor, derived from its events.
type Session struct {
	ID       string     `json:"id"`
	Sensor   string     `json:"sensor"`
	Honeypot string     `json:"honeypot"`
	SrcIP    netip.Addr `json:"src_ip"`
	SrcPort  uint16     `json:"src_port"`
	DstPort  uint16     `json:"dst_port"`
	Start    time.Time  `json:"start"`
	End      *time.Time `json:"end,omitempty"`
	Duration float64    `json:"duration"`
	BytesIn  int64      `json:"bytes_in"`
	BytesOut int64      `json:"bytes_out"`
	Reason   string     `json:"reason,omitempty"`
	Username string     `json:"username,omitempty"`
	Password string     `json:"password,omitempty"`
	LoggedIn bool       `json:"logged_in"`
	Commands int64      `json:"commands"`
	Country  string     `json:"country,omitempty"`
	ASN      int64      `json:"asn,omitempty"`
}

// Sample is a captured file's metadata.
type Sample struct {
	SHA256      string    `json:"sha256"`
	SHA1        string    `json:"sha1"`
	MD5         string    `json:"md5"`
	Size        int64     `json:"size"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	SourceCount int64     `json:"source_count"`
	FileType    string    `json:"file_type,omitempty"`
	Family      string    `json:"family,omitempty"`
	Arch        string    `json:"arch,omitempty"`
	URL         string    `json:"url,omitempty"` // the first URL it was downloaded from
	Cursor      string    `json:"-"`             // pass as ListQuery.After for the next page
}

// URL is a download URL bots pointed us at.
type URL struct {
	URL       string    `json:"url"`
	Host      string    `json:"host"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Status    string    `json:"status"` // online (last fetch succeeded), offline, refused, unknown
	SHA256    string    `json:"sha256,omitempty"`
	Count     int64     `json:"count"`
	Provenance
	Cursor string `json:"-"`
}

// Provenance says how a URL or C2 was learned and whether it is public.
type Provenance struct {
	// Observed is how it was learned: session-fetch (a bot fetched it in
	// a honeypot session), config-decoded, config-decoded+contacted,
	// sandbox-c2-protocol, sandbox-c2-traffic, sandbox-fetch,
	// sandbox-exploit-payload (intel's Observed* constants).
	Observed   string `json:"observed"`
	Confidence int    `json:"confidence"` // 0..100
	// Review is published (public API and feeds), pending (an admin's
	// review, or more independent samples), rejected or allowlisted.
	Review  string `json:"review"`
	Samples int64  `json:"samples"` // distinct samples whose analysis named it
}

// Review states of an indicator.
const (
	ReviewPublished   = "published"
	ReviewPending     = "pending"
	ReviewRejected    = "rejected"
	ReviewAllowlisted = "allowlisted"
)

// CorroboratingSamples is how many independent samples must name a
// pending indicator before it is published without review.
const CorroboratingSamples = 3

// ListQuery pages through samples, URLs or C2s in first-seen order.
type ListQuery struct {
	Since time.Time
	After string
	Limit int
	// Review lists URLs or C2s in that review state; "" is published,
	// the only state the public API and feeds show.
	Review string
}

// ReviewState is the state q lists: published unless set.
func (q ListQuery) ReviewState() string {
	if q.Review == "" {
		return ReviewPublished
	}
	return q.Review
}

// Report is a sample's analysis state and, once done, its report JSON.
type Report struct {
	SHA256   string          `json:"sha256"`
	Status   string          `json:"status"` // queued, done, failed
	Updated  time.Time       `json:"updated"`
	Family   string          `json:"family,omitempty"`
	Arch     string          `json:"arch,omitempty"`
	FileType string          `json:"file_type,omitempty"`
	Error    string          `json:"error,omitempty"`
	Report   json.RawMessage `json:"report,omitempty"`
}

// ReportStore reads analysis reports.
type ReportStore interface {
	Report(ctx context.Context, sha256 string) (*Report, error)
}

// C2 is a command-and-control server named by an analysed sample.
type C2 struct {
	Host      string    `json:"host"` // IP address or domain name
	Port      uint16    `json:"port"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Family    string    `json:"family,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Source    string    `json:"source"` // sandbox or static
	Count     int64     `json:"count"`
	Provenance
	Cursor string `json:"-"`
}

// Host is the scanner's current view of one service.
type Host struct {
	IP         netip.Addr `json:"ip"`
	Port       uint16     `json:"port"`
	Transport  string     `json:"transport"`
	Service    string     `json:"service,omitempty"`
	Vendor     string     `json:"vendor,omitempty"`
	Product    string     `json:"product,omitempty"`
	DeviceType string     `json:"device_type,omitempty"`
	Class      string     `json:"class,omitempty"`
	Findings   []string   `json:"findings"`
	Labels     []string   `json:"labels"`
	Template   string     `json:"template,omitempty"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Cursor     string     `json:"-"` // pass as HostQuery.After for the next page
}

// HostQuery filters hosts; zero values do not filter. Hosts come critical
// first, then newest last-seen first.
type HostQuery struct {
	IP      netip.Addr
	Prefix  netip.Prefix
	Class   string
	Finding string
	Product string
	// Template is one web-UI cluster's id (HostTemplate.Template), exact.
	Template string
	Since    time.Time
	After    string
	Limit    int
}

// FindingInPrefix reports whether q asks for one finding in a prefix and
// for nothing the host_findings rows do not hold: drivers then pick the
// page from host_findings alone and join only its host rows.
func (q HostQuery) FindingInPrefix() bool {
	return q.Finding != "" && q.Prefix.IsValid() && q.Class == "" && q.Product == "" && q.Template == ""
}

// HostSummary counts the hosts seen since a time, for callers who may see
// aggregates only.
type HostSummary struct {
	Total     int64   `json:"total"`
	ByClass   []Count `json:"by_class"`
	ByFinding []Count `json:"by_finding"`
	ByProduct []Count `json:"by_product"`
}

// HostTemplate is one web-UI cluster: hosts whose pages share a template,
// the product most of them were classified as, and the site labels
// extracted from their pages (facility names: not for anonymous callers).
type HostTemplate struct {
	Template string   `json:"template"`
	Product  string   `json:"product,omitempty"`
	Members  int64    `json:"members"`
	Labels   []string `json:"labels,omitempty"`
}

// HostStore reads the scanner's hosts table.
type HostStore interface {
	Hosts(ctx context.Context, q HostQuery) ([]Host, error)
	// HostSummary counts hosts last seen at or after since, the top n keys
	// per dimension.
	HostSummary(ctx context.Context, since time.Time, n int) (*HostSummary, error)
	// HostTemplates lists the n largest template clusters, with up to
	// labels distinct labels each.
	HostTemplates(ctx context.Context, since time.Time, n, labels int) ([]HostTemplate, error)
}

// MergedAttack is an amplification attack against one victim over one
// protocol, merged from every sensor that saw it.
type MergedAttack struct {
	ID           string     `json:"id"`
	Victim       netip.Addr `json:"victim"`
	Protocol     string     `json:"protocol"`
	Ports        []int      `json:"ports"`
	Sensors      []string   `json:"sensors"`
	Start        time.Time  `json:"start"`
	Last         time.Time  `json:"last"`
	Ended        bool       `json:"ended"`
	Packets      int64      `json:"packets"`
	RequestBytes int64      `json:"request_bytes"`
	ReplyBytes   int64      `json:"reply_bytes"` // what a real reflector would have sent
	PeakPPS      float64    `json:"peak_pps"`
	Request      string     `json:"request,omitempty"`
	Country      string     `json:"country,omitempty"`
	ASN          int64      `json:"asn,omitempty"`
	Cursor       string     `json:"-"`
}

// AttackQuery filters merged attacks; zero values do not filter.
type AttackQuery struct {
	Victim   netip.Prefix
	Protocol string
	Sensor   string
	Since    time.Time
	After    string
	Limit    int
}

// AttackStore reads merged attacks.
type AttackStore interface {
	MergedAttacks(ctx context.Context, q AttackQuery) ([]MergedAttack, error)
}
