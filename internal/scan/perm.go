package scan

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"math/rand/v2"
)

// Permutation walks the indices 0..N-1 in the order of ZMap's cyclic group
// walk: the multiplicative group modulo a prime P > N is cyclic, so
// repeatedly multiplying by a random generator G visits every element
// 1..P-1 exactly once; elements above N are skipped. Consecutive indices are
// far apart, so no network sees a burst, and position k is reachable
// directly as Start·G^k, which makes resuming O(log k).
type Permutation struct {
	N     uint64 `json:"n"`
	P     uint64 `json:"p"`
	G     uint64 `json:"g"`
	Start uint64 `json:"start"`
}

// maxSpace bounds the address×port space so products stay in 64 bits and
// factoring P-1 by trial division stays fast.
const maxSpace = 1 << 44

// NewPermutation picks a prime, a generator and a start for n indices.
func NewPermutation(n uint64, rng *rand.Rand) (Permutation, error) {
	if n == 0 {
		return Permutation{}, errors.New("scan: permutation: empty space")
	}
	if n > maxSpace {
		return Permutation{}, fmt.Errorf("scan: permutation: space %d exceeds %d", n, uint64(maxSpace))
	}
	p := nextPrime(n)
	factors := primeFactors(p - 1)
	var g uint64 = 1
	if p > 2 {
		for {
			g = 2 + rng.Uint64N(p-2) // [2, p-1]
			if isGenerator(g, p, factors) {
				break
			}
		}
	}
	start := 1 + rng.Uint64N(p-1)
	return Permutation{N: n, P: p, G: g, Start: start}, nil
}

// Len is the number of group positions (P-1), of which N yield an index.
func (pm Permutation) Len() uint64 { return pm.P - 1 }

// At returns the element at position pos (0 ≤ pos < P-1) and whether it maps
// to an index below N.
func (pm Permutation) At(pos uint64) (index uint64, ok bool) {
	e := mulmod(pm.Start, powmod(pm.G, pos, pm.P), pm.P)
	if e-1 < pm.N {
		return e - 1, true
	}
	return 0, false
}

// Iter returns an iterator starting at position pos.
func (pm Permutation) Iter(pos uint64) *PermIter {
	it := &PermIter{pm: pm, pos: pos}
	if pos < pm.Len() {
		it.cur = mulmod(pm.Start, powmod(pm.G, pos, pm.P), pm.P)
	}
	return it
}

// PermIter yields indices in permutation order.
type PermIter struct {
	pm  Permutation
	pos uint64
	cur uint64
}

// Next returns the next index and the group position it came from; ok is
// false once the walk is complete.
func (it *PermIter) Next() (index, pos uint64, ok bool) {
	for it.pos < it.pm.Len() {
		e, p := it.cur, it.pos
		it.pos++
		it.cur = mulmod(it.cur, it.pm.G, it.pm.P)
		if e-1 < it.pm.N {
			return e - 1, p, true
		}
	}
	return 0, it.pos, false
}

// Pos is the position the next call to Next starts from.
func (it *PermIter) Pos() uint64 { return it.pos }

func mulmod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, rem := bits.Div64(hi%m, lo, m)
	return rem
}

func powmod(b, e, m uint64) uint64 {
	r := uint64(1) % m
	b %= m
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, b, m)
		}
		b = mulmod(b, b, m)
		e >>= 1
	}
	return r
}

func nextPrime(n uint64) uint64 {
	c := n + 1
	if c < 2 {
		c = 2
	}
	for ; ; c++ {
		if new(big.Int).SetUint64(c).ProbablyPrime(20) {
			return c
		}
	}
}

func primeFactors(n uint64) []uint64 {
	var fs []uint64
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			fs = append(fs, d)
			for n%d == 0 {
				n /= d
			}
		}
	}
	if n > 1 {
		fs = append(fs, n)
	}
	return fs
}

func isGenerator(g, p uint64, factors []uint64) bool {
	for _, q := range factors {
		if powmod(g, (p-1)/q, p) == 1 {
			return false
		}
	}
	return true
}
