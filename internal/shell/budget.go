package shell

import (
	"sync/atomic"
	"time"
)

// MemBudget is the memory all sessions of a process may hold in their
// file systems and pipes together. Each session has its own caps
// (Limits.MaxFSBytes, MaxFileBytes); the budget bounds their sum, so many
// sessions (many sources, or one IPv6 /64) cannot exhaust the host: past
// it, writes fail with "No space left on device" as on a full tmpfs, and
// pipes drop what does not fit, as when the reader stops reading. Memory
// comes back when files are removed and when sessions end. Safe for
// concurrent use.
type MemBudget struct {
	max  int64
	used atomic.Int64
}

// NewMemBudget returns a budget of max bytes (max <= 0: unlimited).
func NewMemBudget(max int64) *MemBudget { return &MemBudget{max: max} }

// Max is the budget's size (0: unlimited).
func (b *MemBudget) Max() int64 {
	if b == nil || b.max <= 0 {
		return 0
	}
	return b.max
}

// Used is what sessions hold now.
func (b *MemBudget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// take grants up to want bytes and returns how many; a nil or unlimited
// budget grants everything.
func (b *MemBudget) take(want int64) int64 {
	if b == nil || want <= 0 {
		return max(want, 0)
	}
	if b.max <= 0 {
		b.used.Add(want)
		return want
	}
	for {
		used := b.used.Load()
		got := min(want, b.max-used)
		if got <= 0 {
			return 0
		}
		if b.used.CompareAndSwap(used, used+got) {
			return got
		}
	}
}

// room is what the budget could still grant.
func (b *MemBudget) room() int64 {
	if b == nil || b.max <= 0 {
		return 1 << 62
	}
	return max(b.max-b.used.Load(), 0)
}

// release gives n bytes back.
func (b *MemBudget) release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// DefaultMaxBusy bounds the time one command line may keep the CPU busy
// (Limits.MaxBusy): time spent waiting (sleep, output pacing, downloads)
// does not count.
const DefaultMaxBusy = 10 * time.Second

// busy is how long the current Exec has been working, waits excluded.
func (s *Shell) busy() time.Duration {
	if s.execStart.IsZero() {
		return 0
	}
	return time.Since(s.execStart) - s.waited
}

// overBusy reports whether the current Exec has used up its busy time;
// long-running commands check it between chunks of work.
func (s *Shell) overBusy() bool {
	return s.lim.MaxBusy > 0 && s.busy() > s.lim.MaxBusy
}

// waitStart and waitEnd bracket a wait that does not count as busy time.
func (s *Shell) waitStart() time.Time { return time.Now() }
func (s *Shell) waitEnd(t time.Time)  { s.waited += time.Since(t) }
