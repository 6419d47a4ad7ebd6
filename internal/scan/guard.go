package scan

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// guardDialer refuses every address that is not a listed, non-excluded
// target, whoever asks (discovery, a module, an HTTP client following a
// redirect).
type guardDialer struct {
	inner   Dialer
	space   *Space
	exclude *PrefixSet
	refused atomic.Uint64
}

func (g *guardDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if err := g.permit(address); err != nil {
		return nil, err
	}
	return g.inner.DialContext(ctx, network, address)
}

// permit is the check every connection attempt passes first.
func (g *guardDialer) permit(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		g.refused.Add(1)
		return fmt.Errorf("%w: %q is not an ip:port", ErrNotTarget, address)
	}
	a := ap.Addr().Unmap()
	if !g.space.Contains(a) || g.exclude.Contains(a) {
		g.refused.Add(1)
		return fmt.Errorf("%w: %s", ErrNotTarget, a)
	}
	return nil
}

// tracker knows which group positions are in flight, so a checkpoint never
// skips an unfinished probe.
type tracker struct {
	mu       sync.Mutex
	inflight map[uint64]struct{}
	genPos   uint64
}

func newTracker(pos uint64) *tracker {
	return &tracker{inflight: map[uint64]struct{}{}, genPos: pos}
}

func (t *tracker) start(pos, next uint64) {
	t.mu.Lock()
	t.inflight[pos] = struct{}{}
	t.genPos = next
	t.mu.Unlock()
}

func (t *tracker) advance(next uint64) {
	t.mu.Lock()
	t.genPos = next
	t.mu.Unlock()
}

func (t *tracker) done(pos uint64) {
	t.mu.Lock()
	delete(t.inflight, pos)
	t.mu.Unlock()
}

// low is the position from which a resumed scan must start.
func (t *tracker) low() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	low := t.genPos
	for p := range t.inflight {
		low = min(low, p)
	}
	return low
}
