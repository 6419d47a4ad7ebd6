// Package ethcampaign turns the Ethereum honeypot's rpc.call events into
// per-source campaigns: what each attacking address tried, in which order,
// which passwords it guessed, where it wanted the Ether or the mining
// rewards to go, and which peers it tried to inject. The portal's Ethereum
// view, its API and the wallet feeds read these summaries.
package ethcampaign

import (
	"net/netip"
	"sort"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Categories of rpc.call, in the order of increasing intent. They are the
// values the eth sensor writes (internal/sensor/eth, docs/eth.md).
var Categories = []string{"other", "information_gathering", "balance_check", "mining", "eclipse", "password_brute_force", "theft_attempt"}

var rank = func() map[string]int {
	m := map[string]int{}
	for i, c := range Categories {
		m[c] = i
	}
	return m
}()

// Bounds on what one campaign keeps, whatever an attacker sends.
const (
	MaxSequence     = 64
	MaxPasswords    = 200
	MaxDestinations = 100
	MaxPeers        = 100
	MaxMethods      = 100
)

// Campaign is what one source did.
type Campaign struct {
	Source  netip.Addr `json:"src_ip"`
	Country string     `json:"src_country,omitempty"`
	ASN     int64      `json:"src_asn,omitempty"`
	ASOrg   string     `json:"src_as_org,omitempty"`
	First   time.Time  `json:"first_seen"`
	Last    time.Time  `json:"last_seen"`
	Calls   int        `json:"calls"`
	// Intent is the furthest category the source reached.
	Intent     string         `json:"intent"`
	Categories map[string]int `json:"categories"`
	// Methods in the order the source first used them, with counts.
	Methods []MethodCount `json:"methods"`
	// Sequence is the source's first calls, in order, repeats collapsed
	// ("personal_unlockAccount ×500").
	Sequence      []Step        `json:"sequence"`
	Passwords     []string      `json:"passwords,omitempty"`
	PasswordCount int           `json:"password_attempts"`
	Destinations  []Destination `json:"destinations,omitempty"`
	Peers         []Peer        `json:"peers,omitempty"`
	UserAgents    []string      `json:"user_agents,omitempty"`
	Transports    []string      `json:"transports"`
}

// MethodCount is one method a source called.
type MethodCount struct {
	Method string `json:"method"`
	Count  int    `json:"count"`
}

// Step is one run of identical calls in a source's sequence.
type Step struct {
	Method string `json:"method"`
	Times  int    `json:"times"`
}

// Destination is an address the source wanted funds or rewards sent to.
type Destination struct {
	Address string    `json:"address"`
	Via     string    `json:"via"`             // the method: eth_sendTransaction, miner_setEtherbase, …
	Value   string    `json:"value,omitempty"` // wei, decimal, of the largest attempt
	Count   int       `json:"count"`
	First   time.Time `json:"first_seen"`
	Last    time.Time `json:"last_seen"`
}

// Peer is an enode URL the source tried to add.
type Peer struct {
	Enode   string `json:"enode"`
	IP      string `json:"ip,omitempty"`
	Country string `json:"country,omitempty"`
	ASN     int64  `json:"asn,omitempty"`
	ASOrg   string `json:"as_org,omitempty"`
	Count   int    `json:"count"`
}

// Summarize groups rpc.call events by source, in time order; events of
// other kinds are ignored. Campaigns come back by last activity, newest
// first.
func Summarize(evs []*event.Event) []Campaign {
	sorted := make([]*event.Event, 0, len(evs))
	for _, e := range evs {
		if e.Kind == "rpc.call" && e.SrcIP.IsValid() {
			sorted = append(sorted, e)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })
	by := map[netip.Addr]*builder{}
	var order []netip.Addr
	for _, e := range sorted {
		b := by[e.SrcIP]
		if b == nil {
			b = newBuilder(e)
			by[e.SrcIP] = b
			order = append(order, e.SrcIP)
		}
		b.add(e)
	}
	out := make([]Campaign, 0, len(order))
	for _, ip := range order {
		out = append(out, by[ip].c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out
}

type builder struct {
	c         Campaign
	methods   map[string]int // index in c.Methods
	passwords map[string]bool
	dests     map[string]int
	peers     map[string]int
	agents    map[string]bool
	transport map[string]bool
}

func newBuilder(e *event.Event) *builder {
	return &builder{
		c:       Campaign{Source: e.SrcIP, First: e.Time, Categories: map[string]int{}, Intent: "other"},
		methods: map[string]int{}, passwords: map[string]bool{}, dests: map[string]int{}, peers: map[string]int{},
		agents: map[string]bool{}, transport: map[string]bool{},
	}
}

func (b *builder) add(e *event.Event) {
	c := &b.c
	c.Calls++
	c.Last = e.Time
	if c.Country == "" {
		c.Country = e.Str("src_country")
		c.ASN = e.Int("src_asn")
		c.ASOrg = e.Str("src_as_org")
	}
	cat := e.Str("category")
	if _, ok := rank[cat]; !ok {
		cat = "other"
	}
	c.Categories[cat]++
	if rank[cat] > rank[c.Intent] {
		c.Intent = cat
	}
	method := e.Text("method")
	if i, ok := b.methods[method]; ok {
		c.Methods[i].Count++
	} else if len(c.Methods) < MaxMethods {
		b.methods[method] = len(c.Methods)
		c.Methods = append(c.Methods, MethodCount{Method: method, Count: 1})
	}
	if n := len(c.Sequence); n > 0 && c.Sequence[n-1].Method == method {
		c.Sequence[n-1].Times++
	} else if n < MaxSequence {
		c.Sequence = append(c.Sequence, Step{Method: method, Times: 1})
	}
	if _, ok := e.Data["password"]; ok {
		c.PasswordCount++
		pw := e.Text("password")
		if !b.passwords[pw] && len(c.Passwords) < MaxPasswords {
			b.passwords[pw] = true
			c.Passwords = append(c.Passwords, pw)
		}
	}
	if d := e.Str("destination"); d != "" {
		if i, ok := b.dests[d]; ok {
			c.Destinations[i].Count++
			c.Destinations[i].Last = e.Time
			c.Destinations[i].Value = maxDecimal(c.Destinations[i].Value, e.Str("value"))
		} else if len(c.Destinations) < MaxDestinations {
			b.dests[d] = len(c.Destinations)
			c.Destinations = append(c.Destinations, Destination{Address: d, Via: method, Value: e.Str("value"), Count: 1, First: e.Time, Last: e.Time})
		}
	}
	if u := e.Text("enode"); u != "" {
		if i, ok := b.peers[u]; ok {
			c.Peers[i].Count++
		} else if len(c.Peers) < MaxPeers {
			b.peers[u] = len(c.Peers)
			c.Peers = append(c.Peers, Peer{Enode: u, IP: e.Str("enode_ip"), Country: e.Str("enode_country"), ASN: e.Int("enode_asn"), ASOrg: e.Str("enode_as_org"), Count: 1})
		}
	}
	if ua := e.Text("user_agent"); ua != "" && !b.agents[ua] && len(c.UserAgents) < 10 {
		b.agents[ua] = true
		c.UserAgents = append(c.UserAgents, ua)
	}
	if t := e.Str("transport"); t != "" && !b.transport[t] {
		b.transport[t] = true
		c.Transports = append(c.Transports, t)
	}
}

// maxDecimal returns the larger of two non-negative decimal strings.
func maxDecimal(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	case len(a) != len(b):
		if len(a) > len(b) {
			return a
		}
		return b
	case a >= b:
		return a
	}
	return b
}
