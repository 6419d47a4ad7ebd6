package intel

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Password spraying is the opposite of brute force: few passwords, each
// tried against many accounts, slowly and from many addresses, so that no
// account locks out and no single source stands out. It shows only when
// the logon attempts of all sources are looked at together.

// SprayOptions tune spraying detection.
type SprayOptions struct {
	// Gap ends a campaign: a password not tried for this long starts anew.
	Gap time.Duration
	// MinUsers is how many accounts one password must be tried against.
	MinUsers int
	// MaxPerUser bounds attempts per account: a sprayer tries each
	// account once or twice, a brute forcer many times.
	MaxPerUser float64
	// MaxList bounds the users and sources a campaign lists.
	MaxList int
}

// DefaultSprayOptions are conservative: ten accounts, at most two tries
// each, within gaps of six hours.
func DefaultSprayOptions() SprayOptions {
	return SprayOptions{Gap: 6 * time.Hour, MinUsers: 10, MaxPerUser: 2, MaxList: 50}
}

// Campaign is one spraying campaign against one service.
type Campaign struct {
	ID      string // stable for the same first attempt
	Service string // the honeypot: rdp, vpn, ssh, …
	// Passwords sprayed (escaped); empty for NTLM logons, where only a
	// hash crosses the wire.
	Passwords []string
	// Domains the accounts belong to (NTLM logons).
	Domains     []string
	First, Last time.Time
	Attempts    int
	UserCount   int
	Users       []string // first MaxList, sorted, escaped
	SourceCount int
	Sources     []netip.Addr // first MaxList, sorted
}

type sprayKey struct{ service, key string }

type segment struct {
	key         sprayKey
	password    string
	domain      string
	first, last time.Time
	attempts    int
	users       map[string]int
	sources     map[netip.Addr]bool
}

// DetectSpraying finds spraying campaigns among logon events
// (login.failed and login.success of any honeypot): per service, each
// password (for NTLM logons, each target domain) tried against at least
// MinUsers accounts with at most MaxPerUser tries each; passwords sprayed
// in the same period from shared sources or at shared accounts make one
// campaign.
func DetectSpraying(events []*event.Event, o SprayOptions) []Campaign {
	evs := make([]*event.Event, 0, len(events))
	for _, e := range events {
		if e.Kind == "login.failed" || e.Kind == "login.success" {
			evs = append(evs, e)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	open := map[sprayKey]*segment{}
	var done []*segment
	for _, e := range evs {
		user := e.Text("username")
		if user == "" {
			continue
		}
		pass, domain := e.Text("password"), strings.ToUpper(e.Text("domain"))
		k := sprayKey{e.Honeypot, "p\x00" + pass}
		if pass == "" {
			if e.Str("method") != "ntlm" {
				continue // an empty password is not sprayed
			}
			k.key = "d\x00" + domain
		}
		s := open[k]
		if s != nil && e.Time.Sub(s.last) > o.Gap {
			done = append(done, s)
			s = nil
		}
		if s == nil {
			s = &segment{key: k, password: pass, domain: domain, first: e.Time, users: map[string]int{}, sources: map[netip.Addr]bool{}}
			open[k] = s
		}
		s.last = e.Time
		s.attempts++
		s.users[strings.ToLower(user)]++
		if e.SrcIP.IsValid() {
			s.sources[e.SrcIP] = true
		}
	}
	for _, s := range open {
		done = append(done, s)
	}
	var sprays []*segment
	for _, s := range done {
		if len(s.users) >= o.MinUsers && float64(s.attempts)/float64(len(s.users)) <= o.MaxPerUser {
			sprays = append(sprays, s)
		}
	}
	sort.Slice(sprays, func(i, j int) bool {
		if !sprays[i].first.Equal(sprays[j].first) {
			return sprays[i].first.Before(sprays[j].first)
		}
		return sprays[i].key.key < sprays[j].key.key
	})
	return merge(sprays, o)
}

// merge joins the sprayed passwords of one service into campaigns: two
// overlap in time (within Gap) and share a source or an account.
func merge(sprays []*segment, o SprayOptions) []Campaign {
	var groups [][]*segment
	for _, s := range sprays {
		joined := false
		for i, g := range groups {
			if g[0].key.service == s.key.service && related(g, s, o) {
				groups[i] = append(g, s)
				joined = true
				break
			}
		}
		if !joined {
			groups = append(groups, []*segment{s})
		}
	}
	out := make([]Campaign, 0, len(groups))
	for _, g := range groups {
		c := Campaign{Service: g[0].key.service, First: g[0].first, Last: g[0].last}
		users, sources := map[string]bool{}, map[netip.Addr]bool{}
		for _, s := range g {
			if s.password != "" {
				c.Passwords = append(c.Passwords, event.EscapeInvalid(s.password))
			} else if s.domain != "" && !slices.Contains(c.Domains, s.domain) {
				c.Domains = append(c.Domains, event.EscapeInvalid(s.domain))
			}
			c.First, c.Last = minTime(c.First, s.first), maxTime(c.Last, s.last)
			c.Attempts += s.attempts
			for u := range s.users {
				users[u] = true
			}
			for a := range s.sources {
				sources[a] = true
			}
		}
		c.UserCount, c.SourceCount = len(users), len(sources)
		for u := range users {
			c.Users = append(c.Users, event.EscapeInvalid(u))
		}
		slices.Sort(c.Users)
		c.Users = c.Users[:min(len(c.Users), o.MaxList)]
		for a := range sources {
			c.Sources = append(c.Sources, a)
		}
		slices.SortFunc(c.Sources, func(a, b netip.Addr) int { return a.Compare(b) })
		c.Sources = c.Sources[:min(len(c.Sources), o.MaxList)]
		h := sha256.Sum256([]byte(c.Service + "\x00" + g[0].key.key + "\x00" + c.First.UTC().Format(time.RFC3339Nano)))
		c.ID = "spray-" + hex.EncodeToString(h[:6])
		out = append(out, c)
	}
	return out
}

func related(g []*segment, s *segment, o SprayOptions) bool {
	for _, x := range g {
		if s.first.After(x.last.Add(o.Gap)) || x.first.After(s.last.Add(o.Gap)) {
			continue
		}
		for a := range s.sources {
			if x.sources[a] {
				return true
			}
		}
		for u := range s.users {
			if x.users[u] > 0 {
				return true
			}
		}
	}
	return false
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
