// Package source says which client addresses count as one source for the
// per-source limits of sensors and the portal, and keeps rate limiters per
// source in bounded memory.
//
// An IPv4 address is one source. An IPv6 site is normally given a /64 (or
// more), so counting each IPv6 address separately would give one attacker
// 2^64 identities; IPv6 addresses are grouped by a prefix length (64 by
// default, configurable).
package source

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultIPv6Prefix is the prefix length IPv6 clients are grouped by.
const DefaultIPv6Prefix = 64

// Key returns the source a belongs to: a /32 for IPv4 (and IPv4-mapped
// IPv6), a /v6bits for IPv6 (DefaultIPv6Prefix if v6bits is outside 1..128).
func Key(a netip.Addr, v6bits int) netip.Prefix {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	if v6bits < 1 || v6bits > 128 {
		v6bits = DefaultIPv6Prefix
	}
	p, _ := a.Prefix(v6bits)
	return p
}

// Limiters is a token-bucket rate limiter per source, at most Max of them:
// when a new source comes and the table is full, the least recently used
// source's limiter is forgotten, so a flood of fresh addresses costs each
// busy source nothing and never resets everyone at once.
type Limiters struct {
	limit  rate.Limit
	burst  int
	v6bits int
	max    int

	mu  sync.Mutex
	lru *list.List // of *entry, most recently used first
	m   map[netip.Prefix]*list.Element
}

type entry struct {
	key netip.Prefix
	lim *rate.Limiter
}

// NewLimiters returns limiters allowing limit events per second with the
// given burst to each source, keeping at most max sources (max < 1 means
// 100000).
func NewLimiters(limit rate.Limit, burst, v6bits, max int) *Limiters {
	if max < 1 {
		max = 100000
	}
	return &Limiters{limit: limit, burst: burst, v6bits: v6bits, max: max, lru: list.New(), m: map[netip.Prefix]*list.Element{}}
}

// PerMinute is NewLimiters for n events a minute, with a burst of n.
func PerMinute(n, v6bits, max int) *Limiters {
	return NewLimiters(rate.Limit(float64(n)/60), n, v6bits, max)
}

// Allow reports whether a's source may have one more event at now.
func (l *Limiters) Allow(a netip.Addr, now time.Time) bool {
	k := Key(a, l.v6bits)
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.m[k]
	if ok {
		l.lru.MoveToFront(el)
	} else {
		if l.lru.Len() >= l.max {
			old := l.lru.Back()
			l.lru.Remove(old)
			delete(l.m, old.Value.(*entry).key)
		}
		el = l.lru.PushFront(&entry{key: k, lim: rate.NewLimiter(l.limit, l.burst)})
		l.m[k] = el
	}
	return el.Value.(*entry).lim.AllowN(now, 1)
}

// Len is the number of sources remembered.
func (l *Limiters) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// Counter counts things held per source (open sessions, streams) against
// a cap; safe for concurrent use. The zero value is not usable: use
// NewCounter.
type Counter struct {
	v6bits int
	mu     sync.Mutex
	n      map[netip.Prefix]int
}

// NewCounter returns an empty counter grouping IPv6 by v6bits.
func NewCounter(v6bits int) *Counter {
	return &Counter{v6bits: v6bits, n: map[netip.Prefix]int{}}
}

// Acquire takes one slot for a's source if it holds fewer than max, and
// returns its release function (call it exactly once), or nil when full.
func (c *Counter) Acquire(a netip.Addr, max int) (release func()) {
	k := Key(a, c.v6bits)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[k] >= max {
		return nil
	}
	c.n[k]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			if c.n[k]--; c.n[k] <= 0 {
				delete(c.n, k)
			}
			c.mu.Unlock()
		})
	}
}

// Held is how many slots a's source holds.
func (c *Counter) Held(a netip.Addr) int {
	k := Key(a, c.v6bits)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}
