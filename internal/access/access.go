// Package access is the portal's one access policy. Every piece of data
// the portal serves is of one Kind; each Kind names who may read it; every
// endpoint that serves data (pages, APIs, the live stream, feeds, exports)
// asks this package instead of deciding for itself, so a new endpoint
// cannot open a side door to data another endpoint guards.
//
// The table (also in docs/access.md):
//
//	kind        what                                        who
//	activity    what honeypots saw sources do; indicators   anyone
//	aggregate   counts and charts without addresses         anyone
//	exposure    scanner results: hosts, services, labels    feeds:read key, admin
//	victims     amplification attacks: victim addresses     feeds:read key, admin
//	bulk        reports naming hosts, bulk metadata dumps   feeds:read key, admin
//	sample      the bytes of captured malware               samples:download key, admin
//	lookup      the infection check of any address          check:any key for that address, admin
//	operations  metrics, audit log, keys, subscriptions     admin
package access

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/kansoku/kansoku/internal/event"
)

// Kind is a kind of data the portal serves.
type Kind string

// The kinds of data.
const (
	Activity   Kind = "activity"
	Aggregate  Kind = "aggregate"
	Exposure   Kind = "exposure"
	Victims    Kind = "victims"
	Bulk       Kind = "bulk"
	Sample     Kind = "sample"
	Lookup     Kind = "lookup"
	Operations Kind = "operations"
)

// Kinds lists every kind, in the table's order.
var Kinds = []Kind{Activity, Aggregate, Exposure, Victims, Bulk, Sample, Lookup, Operations}

// API key scopes.
const (
	ScopeSamplesDownload = "samples:download"
	ScopeFeedsRead       = "feeds:read"
	ScopeCheckAny        = "check:any"
)

// Scopes lists every scope a key can carry.
var Scopes = []string{ScopeSamplesDownload, ScopeFeedsRead, ScopeCheckAny}

// scope is the key scope that grants each protected kind; public kinds
// have none, Operations has none (admins only).
var scope = map[Kind]string{
	Exposure: ScopeFeedsRead,
	Victims:  ScopeFeedsRead,
	Bulk:     ScopeFeedsRead,
	Sample:   ScopeSamplesDownload,
	Lookup:   ScopeCheckAny,
}

// Public reports whether anyone may read k.
func Public(k Kind) bool { return k == Activity || k == Aggregate }

// Scope is the API key scope that grants k ("" for public kinds and for
// Operations, which only admins read).
func Scope(k Kind) string { return scope[k] }

// Caller is who asks: anonymous (the zero value), an API key, or a
// logged-in admin.
type Caller struct {
	Admin    bool
	KeyID    string // "" without a key
	Scopes   []string
	Prefixes []netip.Prefix // the addresses a check:any key may look up
}

// Anonymous is the caller without key or login.
var Anonymous = Caller{}

// Has reports whether the caller's key carries sc.
func (c Caller) Has(sc string) bool { return slices.Contains(c.Scopes, sc) }

// May reports whether c may read data of kind k. For Lookup it says
// whether c may look up some address; MayLookup says which.
func (c Caller) May(k Kind) bool {
	switch {
	case Public(k), c.Admin:
		return true
	case k == Operations:
		return false
	}
	return c.Has(scope[k])
}

// MayLookup reports whether c may run the infection check for a.
func (c Caller) MayLookup(a netip.Addr) bool {
	if c.Admin {
		return true
	}
	if !c.Has(ScopeCheckAny) {
		return false
	}
	a = a.Unmap()
	for _, p := range c.Prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of is the kind of data one event is. Amplification events name the
// victim (the spoofed source), scanner events the scanned host; anything
// else a honeypot or the sandbox saw is activity.
func Of(e *event.Event) Kind {
	return OfStream(e.Honeypot, e.Kind)
}

// OfStream is Of for an event's honeypot and kind fields.
func OfStream(honeypot, kind string) Kind {
	switch {
	case honeypot == "amp", strings.HasPrefix(kind, "amp."):
		return Victims
	case honeypot == "scan", strings.HasPrefix(kind, "scan."):
		return Exposure
	}
	return Activity
}

// Filter returns the events of evs that c may read, in place.
func (c Caller) Filter(evs []*event.Event) []*event.Event {
	return slices.DeleteFunc(evs, func(e *event.Event) bool { return !c.May(Of(e)) })
}
