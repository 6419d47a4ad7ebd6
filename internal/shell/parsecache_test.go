package shell

import (
	"sync"
	"testing"
)

// Syntax trees of repeated lines are shared between sessions: many shells
// running the same lines at once (under -race) give what one shell alone
// gives, so no tree is modified while it is run.
func TestSharedTreesAcrossSessions(t *testing.T) {
	var lines []string
	for _, c := range fidelityCases {
		lines = append(lines, c.lines...)
	}
	want := run(t, newTestShell(t, "nas-x86_64", nil), lines...)
	var wg sync.WaitGroup
	got := make([]string, 6)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = run(t, newTestShell(t, "nas-x86_64", nil), lines...)
		}()
	}
	wg.Wait()
	for i, g := range got {
		if g != want {
			t.Fatalf("session %d differs from a lone session:\n%s\nwant\n%s", i, g, want)
		}
	}
}
