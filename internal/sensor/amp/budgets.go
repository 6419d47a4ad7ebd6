package amp

import (
	"encoding/binary"
	"net/netip"
)

// budgetTable holds one reply budget per IPv4 source address and per IPv6
// /64 (one host's or one LAN's share: spreading a reflection over the
// addresses of one /64 does not multiply its budget). IPv4 sources, the
// bulk of spoofed floods, use a 4-byte key so a million of them stay small.
type budgetTable struct {
	v4 map[uint32]budget
	v6 map[[16]byte]budget
}

func newBudgetTable() budgetTable {
	return budgetTable{v4: map[uint32]budget{}, v6: map[[16]byte]budget{}}
}

func (t budgetTable) get(a netip.Addr) (budget, bool) {
	a = a.Unmap()
	if a.Is4() {
		b4 := a.As4()
		v, ok := t.v4[binary.BigEndian.Uint32(b4[:])]
		return v, ok
	}
	v, ok := t.v6[prefix64(a)]
	return v, ok
}

func prefix64(a netip.Addr) [16]byte {
	k := a.As16()
	clear(k[8:])
	return k
}

func (t budgetTable) set(a netip.Addr, b budget) {
	a = a.Unmap()
	if a.Is4() {
		b4 := a.As4()
		t.v4[binary.BigEndian.Uint32(b4[:])] = b
		return
	}
	t.v6[prefix64(a)] = b
}

func (t budgetTable) len() int { return len(t.v4) + len(t.v6) }

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
}
