package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"
)

// httpHooks fetches for real from the loopback test server, mapping errors
// the way a sensor's fetcher would.
type httpHooks struct{ fakeHooks }

func (h *httpHooks) Fetch(ctx context.Context, tool, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &FetchError{Reason: FetchRefused, Err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{Reason: FetchHTTPStatus, Status: fmt.Sprintf("HTTP/%d.%d %s", resp.ProtoMajor, resp.ProtoMinor, resp.Status)}
	}
	return io.ReadAll(resp.Body)
}

// TestFidelityWget compares wget's output (progress, errors) with real
// BusyBox wget against a loopback HTTP server.
func TestFidelityWget(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("real busybox missing (apt package busybox-static, scripts/deps/shell.apt)")
	}
	files := map[string][]byte{
		"/x.sh":    []byte("echo hi\n"),
		"/bin.arm": make([]byte, 70000),
		"/big":     make([]byte, 250000),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	// a loopback port with nothing listening
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	base := srv.URL
	lines := []string{
		"wget " + base + "/x.sh", "cat x.sh", "wget -O b " + base + "/bin.arm", "wget " + base + "/big",
		"wget -q " + base + "/x.sh -O q", "wget -O - " + base + "/x.sh", "wget " + base + "/nothere; echo $?",
		"wget http://" + closed + "/x; echo $?", "wget -O nodir/x " + base + "/x.sh", "ls -1",
	}
	want := realOutput(t, lines)
	// http.NotFound answers HTTP/1.1 404 Not Found: same for both
	s := New(Config{
		Device:   fidelityProfile(t).Instantiate([]byte("fidelity")),
		Hooks:    &httpHooks{},
		Username: "root",
		Now:      func() time.Time { return testNow },
		Rand:     rand.New(rand.NewSource(1)),
	})
	run(t, s, "mkdir -p /tmp/fid", "cd /tmp/fid")
	got := loginRE.ReplaceAllString(run(t, s, lines...), "sh: ")
	if got != want {
		t.Errorf("outputs differ\n--- real busybox\n%s\n--- emulation\n%s", want, got)
	}
}
