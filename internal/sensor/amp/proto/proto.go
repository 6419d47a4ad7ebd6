// Package proto holds the request parsers and reply builders of the
// amplification honeypot: one small emulation per UDP reflector protocol.
// A Handler only answers the question "what would a real, amplifying server
// send for this datagram?"; whether anything is actually sent is decided by
// the amp sensor's budgets, never here.
package proto

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// ErrMalformed is wrapped by every parse error: the datagram is recorded but
// not answered.
var ErrMalformed = errors.New("malformed request")

// ErrNoAnswer is returned for well-formed requests a real server ignores
// (a wrong SNMP community, an SSDP search target we do not offer).
var ErrNoAnswer = errors.New("request not answered")

func malformed(proto, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", proto, fmt.Sprintf(format, args...), ErrMalformed)
}

// Peer describes the datagram's addresses; replies that embed the server's
// own address (SSDP LOCATION, WS-Discovery XAddrs) use Local.
type Peer struct {
	Remote netip.AddrPort
	Local  netip.AddrPort
}

// Reply is what a real server would send for one request.
type Reply struct {
	// Content is the request's distinguishing content, e.g. "ANY example.org"
	// or "mode7 impl=3 req=42"; attacker-controlled, keep it byte-exact.
	Content string
	// Packets are the reply datagrams in send order.
	Packets [][]byte
}

// Size is the total reply size in bytes.
func (r Reply) Size() int {
	n := 0
	for _, p := range r.Packets {
		n += len(p)
	}
	return n
}

// Handler parses requests of one protocol. Implementations are safe for
// concurrent use.
type Handler interface {
	Respond(req []byte, peer Peer) (Reply, error)
}

// Options are the protocol-specific settings from the sensor config.
type Options struct {
	Zones          []string // DNS zones answered authoritatively
	Communities    []string // SNMP communities accepted
	MonlistEntries int      // NTP monlist peers (6 per packet)
	// Now is the clock for timestamps and uptimes in replies; golden tests
	// fix it. Nil means time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// Protocol registers one emulation.
type Protocol struct {
	Name          string
	Port          uint16 // the real service's port
	DefaultListen string // the unprivileged default the sensor binds
	New           func(id Identity, o Options) (Handler, error)
}

var (
	mu    sync.RWMutex
	table = map[string]Protocol{}
)

func register(p Protocol) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := table[p.Name]; dup {
		panic("proto: duplicate " + p.Name)
	}
	table[p.Name] = p
}

// Lookup returns the protocol registered under name.
func Lookup(name string) (Protocol, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := table[name]
	return p, ok
}

// All returns every protocol sorted by name.
func All() []Protocol {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Protocol, 0, len(table))
	for _, p := range table {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// clip bounds attacker content recorded in Content.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
