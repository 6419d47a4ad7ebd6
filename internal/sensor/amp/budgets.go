package amp

import (
	"encoding/binary"
	"net/netip"
)

// budgetTable holds the reply budgets: one per source and protocol (an
// IPv4 address, or an IPv6 /64: one host's or one LAN's share), and one per
// victim prefix over all protocols (an IPv4 /24, an IPv6 /48), so neither
// probing many services from one address nor carpet-bombing the addresses
// of one network multiplies what leaves towards it. IPv4 keys are packed
// into integers so a million spoofed sources stay small.
type budgetTable struct {
	v4 map[uint64]budget // address<<8 | protocol
	v6 map[v6key]budget  // /64 and protocol
	p4 map[uint32]budget // /24
	p6 map[[6]byte]budget
}

type v6key struct {
	net   [8]byte
	proto uint8
}

func newBudgetTable() budgetTable {
	return budgetTable{v4: map[uint64]budget{}, v6: map[v6key]budget{}, p4: map[uint32]budget{}, p6: map[[6]byte]budget{}}
}

// source returns the budget of a (source, protocol).
func (t budgetTable) source(a netip.Addr, proto uint8) (budget, bool) {
	a = a.Unmap()
	var v budget
	var ok bool
	if a.Is4() {
		v, ok = t.v4[v4key(a, proto)]
	} else {
		v, ok = t.v6[v6keyOf(a, proto)]
	}
	return v, ok
}

func (t budgetTable) setSource(a netip.Addr, proto uint8, b budget) {
	a = a.Unmap()
	if a.Is4() {
		t.v4[v4key(a, proto)] = b
		return
	}
	t.v6[v6keyOf(a, proto)] = b
}

// prefix returns the budget of the victim network a is in.
func (t budgetTable) prefix(a netip.Addr) (budget, bool) {
	a = a.Unmap()
	var v budget
	var ok bool
	if a.Is4() {
		v, ok = t.p4[p4key(a)]
	} else {
		v, ok = t.p6[p6key(a)]
	}
	return v, ok
}

func (t budgetTable) setPrefix(a netip.Addr, b budget) {
	a = a.Unmap()
	if a.Is4() {
		t.p4[p4key(a)] = b
		return
	}
	t.p6[p6key(a)] = b
}

func v4key(a netip.Addr, proto uint8) uint64 {
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<8 | uint64(proto)
}

func v6keyOf(a netip.Addr, proto uint8) v6key {
	k := v6key{proto: proto}
	b := a.As16()
	copy(k.net[:], b[:8])
	return k
}

func p4key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:]) >> 8
}

func p6key(a netip.Addr) [6]byte {
	b := a.As16()
	return [6]byte(b[:6])
}

func (t budgetTable) len() int { return len(t.v4) + len(t.v6) + len(t.p4) + len(t.p6) }

// expire drops the budgets keep refuses.
func (t budgetTable) expire(keep func(budget) bool) {
	for k, b := range t.v4 {
		if !keep(b) {
			delete(t.v4, k)
		}
	}
	for k, b := range t.v6 {
		if !keep(b) {
			delete(t.v6, k)
		}
	}
	for k, b := range t.p4 {
		if !keep(b) {
			delete(t.p4, k)
		}
	}
	for k, b := range t.p6 {
		if !keep(b) {
			delete(t.p6, k)
		}
	}
}
