package scan

import (
	"math/rand/v2"
	"testing"
)

func TestPermutationCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 4, 10, 97, 1000, 4096, 65539} {
		for seed := uint64(1); seed <= 3; seed++ {
			pm, err := NewPermutation(n, rand.New(rand.NewPCG(seed, seed)))
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]bool, n)
			count := uint64(0)
			it := pm.Iter(0)
			for {
				idx, pos, ok := it.Next()
				if !ok {
					break
				}
				if idx >= n || seen[idx] {
					t.Fatalf("n=%d seed=%d: index %d out of range or repeated", n, seed, idx)
				}
				if got, ok := pm.At(pos); !ok || got != idx {
					t.Fatalf("n=%d: At(%d)=%d,%v, iterator gave %d", n, pos, got, ok, idx)
				}
				seen[idx] = true
				count++
			}
			if count != n {
				t.Fatalf("n=%d seed=%d: visited %d", n, seed, count)
			}
		}
	}
}

func TestPermutationResume(t *testing.T) {
	const n = 5000
	pm, err := NewPermutation(n, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	var full []uint64
	for it := pm.Iter(0); ; {
		idx, _, ok := it.Next()
		if !ok {
			break
		}
		full = append(full, idx)
	}
	// Stop after k indices and resume from the saved position.
	for _, k := range []int{0, 1, 17, 2500, n - 1} {
		it := pm.Iter(0)
		for range k {
			it.Next()
		}
		saved := it.Pos()
		var rest []uint64
		for r := pm.Iter(saved); ; {
			idx, _, ok := r.Next()
			if !ok {
				break
			}
			rest = append(rest, idx)
		}
		if len(rest) != n-k {
			t.Fatalf("k=%d: resumed walk has %d indices, want %d", k, len(rest), n-k)
		}
		for i := range rest {
			if rest[i] != full[k+i] {
				t.Fatalf("k=%d: resumed walk differs at %d", k, i)
			}
		}
	}
}

func TestPermutationScattersNeighbours(t *testing.T) {
	// Consecutive probes must not walk a network in order: a sequential
	// walk would hit each /24 with a burst.
	pm, err := NewPermutation(1<<16, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	it := pm.Iter(0)
	prev, _, _ := it.Next()
	adjacent := 0
	for range 1000 {
		idx, _, _ := it.Next()
		if idx/256 == prev/256 {
			adjacent++
		}
		prev = idx
	}
	if adjacent > 50 {
		t.Fatalf("%d of 1000 consecutive probes in the same /24", adjacent)
	}
}

func TestPermutationLimits(t *testing.T) {
	if _, err := NewPermutation(0, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("empty space accepted")
	}
	if _, err := NewPermutation(maxSpace+1, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("oversized space accepted")
	}
}
