package shell

import (
	"bytes"
	"context"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeHooks serves URLs from a map and records samples.
type fakeHooks struct {
	mu      sync.Mutex
	files   map[string][]byte
	errs    map[string]error
	fetches []string
	samples []Sample
}

func (h *fakeHooks) Fetch(ctx context.Context, tool, url string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fetches = append(h.fetches, tool+" "+url)
	if err, ok := h.errs[url]; ok {
		return nil, err
	}
	if b, ok := h.files[url]; ok {
		return b, nil
	}
	return nil, &FetchError{Reason: FetchHTTPStatus, Status: "HTTP/1.1 404 Not Found"}
}

func (h *fakeHooks) Sample(ctx context.Context, s Sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.samples = append(h.samples, s)
}

func newTestShell(t testing.TB, prof string, hooks Hooks) *Shell {
	t.Helper()
	p := profile.ByName(profile.Defaults(), prof)
	if p == nil {
		t.Fatalf("no profile %s", prof)
	}
	return New(Config{
		Device:   p.Instantiate([]byte("test-seed")),
		Hooks:    hooks,
		Limits:   Limits{MaxBusy: -1}, // see limitedShell
		Username: "root",
		Now:      func() time.Time { return testNow },
		Rand:     rand.New(rand.NewSource(1)),
	})
}

// run runs lines and returns the combined output.
func run(t testing.TB, s *Shell, lines ...string) string {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		s.Exec(context.Background(), l, &b)
	}
	return b.String()
}
