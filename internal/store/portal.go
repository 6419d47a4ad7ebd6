package store

import (
	"context"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// PortalStore is what the portal adds: dashboard aggregates kept up to date
// at insert time, the infection check's per-address lookup, and the
// portal's own records (admin users and sessions, API keys, audit log,
// alert subscriptions).
type PortalStore interface {
	PortalLookup
	// Dashboard reads the aggregates for the days since (UTC, inclusive).
	Dashboard(ctx context.Context, since time.Time, top int) (*Dashboard, error)
	// AddressEvents returns the newest events whose src_ip is ip, since the
	// given time, newest first: index-backed, for the infection check.
	AddressEvents(ctx context.Context, ip netip.Addr, since time.Time, limit int) ([]*event.Event, error)

	CreateUser(ctx context.Context, name, pwHash string) error
	UserHash(ctx context.Context, name string) (string, error)
	CreateAdminSession(ctx context.Context, s AdminSession) error
	AdminSession(ctx context.Context, tokenHash string, now time.Time) (*AdminSession, error)
	DeleteAdminSession(ctx context.Context, tokenHash string) error

	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, keyHash string) (*APIKey, error)
	APIKeys(ctx context.Context) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, id string) error

	Audit(ctx context.Context, actor, action, detail string) error
	AuditLog(ctx context.Context, limit int) ([]AuditEntry, error)

	PutSubscription(ctx context.Context, id string, body []byte) error
	DeleteSubscription(ctx context.Context, id string) error
	SubscriptionBodies(ctx context.Context) ([][]byte, error)
}

// Dashboard is the data behind the public dashboard.
type Dashboard struct {
	Days          []string `json:"days"`           // every day in the window, oldest first
	EventsPerDay  []int64  `json:"events_per_day"` // parallel to Days
	AttacksPerDay []int64  `json:"attacks_per_day"`
	LoginsPerDay  []int64  `json:"logins_per_day"`
	SamplesPerDay []int64  `json:"samples_per_day"`
	// FamiliesPerDay counts the distinct malware families analysed each day.
	FamiliesPerDay []int64 `json:"families_per_day"`
	TopPorts       []Count `json:"top_ports"`
	TopHoneypots   []Count `json:"top_honeypots"`
	TopCreds       []Count `json:"top_credentials"` // key is "user:password"
	TopCountries   []Count `json:"top_countries"`
	TopASNs        []Count `json:"top_asns"`
	Families       []Count `json:"families"`
	AttackProtos   []Count `json:"attack_protocols"`
	AttackVictims  []Count `json:"attack_victim_countries"`
	NewURLs        []URL   `json:"new_urls"`
	NewC2s         []C2    `json:"new_c2s"`
}

// AdminSession is a logged-in admin; the cookie carries a secret whose
// SHA-256 is TokenHash.
type AdminSession struct {
	TokenHash string
	User      string
	CSRF      string
	Expires   time.Time
}

// APIKey is a researcher's or CSIRT's key; only the SHA-256 of the secret
// is stored.
type APIKey struct {
	ID       string         `json:"id"`
	KeyHash  string         `json:"-"`
	Name     string         `json:"name"`
	Scopes   []string       `json:"scopes"`
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
	Created  time.Time      `json:"created"`
	Revoked  bool           `json:"revoked"`
}

// AuditEntry is one admin action.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

// PortalLookup is the portal's search and detail lookups.
type PortalLookup interface {
	URL(ctx context.Context, raw string) (*URL, error)
	SampleByHash(ctx context.Context, hash string) (*Sample, error) // SHA-256, SHA-1 or MD5
	SessionsByIP(ctx context.Context, ip netip.Addr, limit int) ([]Session, error)
}
