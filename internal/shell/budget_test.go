package shell

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemBudgetSharedBySessions: sessions together hold no more than the
// process's budget; past it writes fail as on a full disk, and memory
// comes back with rm and when a session ends.
func TestMemBudgetSharedBySessions(t *testing.T) {
	lim := Limits{MaxFSBytes: 64 << 10, MaxFileBytes: 32 << 10, MaxOutputBytes: 8 << 10, MaxLineBytes: 4096, MaxDepth: 6, MaxLoop: 500}
	mem := NewMemBudget(48 << 10)
	mk := func() *Shell {
		s := limitedShell(t, lim)
		s.cfg.Memory = mem
		return s
	}
	a, b := mk(), mk()
	run(t, a, "dd if=/dev/zero of=/tmp/a bs=1k count=32 2>/dev/null")
	if got := mem.Used(); got != 32<<10 {
		t.Fatalf("budget used %d after a 32 KiB file, want %d", got, 32<<10)
	}
	out := run(t, b, "dd if=/dev/zero of=/tmp/b bs=1k count=32; wc -c < /tmp/b")
	if !strings.Contains(out, "No space left on device") || !strings.Contains(out, strconv.Itoa(16<<10)) {
		t.Fatalf("second session past the process budget: %q", out)
	}
	if mem.Used() != 48<<10 {
		t.Fatalf("budget used %d, want it full", mem.Used())
	}
	run(t, a, "rm /tmp/a")
	if out := run(t, b, "dd if=/dev/zero of=/tmp/c bs=1k count=16 2>&1 | grep -c 'No space'"); out != "0\n" {
		t.Fatalf("space freed by rm not given back: %q", out)
	}
	// A pipe's buffer counts while the pipeline runs, and only then.
	run(t, a, "dd if=/dev/zero bs=1k count=8 2>/dev/null | wc -c")
	if mem.Used() != 32<<10 { // /tmp/b and /tmp/c, 16 KiB each
		t.Fatalf("budget used %d after a pipeline, want %d", mem.Used(), 32<<10)
	}
	b.Close(t.Context())
	a.Close(t.Context())
	if mem.Used() != 0 {
		t.Fatalf("%d bytes still held after both sessions ended", mem.Used())
	}
}

// TestHexdumpStreams: dumping a file of the largest size allowed costs a
// small, bounded amount of memory, not the ~70 MB of its whole dump.
func TestHexdumpStreams(t *testing.T) {
	s := newTestShell(t, "router-mipsel", nil)
	run(t, s, "dd if=/dev/urandom of=/tmp/big bs=1M count=15 2>/dev/null")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out := run(t, s, "hexdump -C /tmp/big")
	runtime.ReadMemStats(&after)
	// The terminal takes 1 MiB (the output budget): the dump stops there.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Fatalf("hexdump of 15 MiB allocated %d MiB", alloc>>20)
	}
	if !strings.HasPrefix(out, "00000000  ") {
		t.Fatalf("dump starts %q", out[:min(len(out), 40)])
	}
}

// TestMaxBusy: a line that keeps the CPU busy stops at MaxBusy even when
// its step budget would let it go on.
func TestMaxBusy(t *testing.T) {
	lim := Limits{MaxLoop: 1 << 30, MaxBusy: 50 * time.Millisecond}
	s := limitedShell(t, lim)
	run(t, s, "i=0; while true; do i=$((i+1)); done")
	n, err := strconv.Atoi(strings.TrimSpace(run(t, s, "echo $i")))
	if err != nil || n <= 0 || n >= 1<<30 {
		t.Fatalf("loop ran %d times (%v)", n, err)
	}
	if out := run(t, s, "echo next"); out != "next\n" {
		t.Fatalf("next line after the cap: %q", out)
	}
}
