package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

func testConfig(t *testing.T, extra string) *config.Config {
	t.Helper()
	return testConfigPortal(t, "", extra)
}

// testConfigPortal is testConfig with more keys (indented lines) under portal.
func testConfigPortal(t *testing.T, portal, extra string) *config.Config {
	t.Helper()
	y := fmt.Sprintf("data_dir: %s\nsensor_name: t1\nportal:\n  listen: 127.0.0.1:0\n%ssensors:\n  banner:\n    listen: 127.0.0.1:0\n%s", t.TempDir(), portal, extra)
	cfg, err := config.Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	// Only the banner sensor: other sensors are tested in their packages.
	for _, in := range mustSensors(t, cfg) {
		if in != "banner" {
			f := false
			s := cfg.Sensors[in]
			s.Enabled = &f
			cfg.Sensors[in] = s
		}
	}
	return cfg
}

func mustSensors(t *testing.T, cfg *config.Config) []string {
	insts, err := cfg.EnabledSensors()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range insts {
		out = append(out, i.Name)
	}
	return out
}

type running struct {
	listeners map[string]string
	cancel    context.CancelFunc
	done      chan error
}

func start(t *testing.T, cfg *config.Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{listeners: map[string]string{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		r.done <- app.Run(ctx, cfg, app.Options{Parts: app.All, Ready: func(ls []app.Listener) {
			for _, l := range ls {
				r.listeners[l.Name] = strings.TrimPrefix(l.Addr, "http://")
			}
			close(ready)
		}})
	}()
	select {
	case <-ready:
	case err := <-r.done:
		t.Fatalf("serve failed: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve not ready")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("serve returned %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, b)
	}
	return resp.StatusCode
}

// sendPayloads makes n connections to the banner sensor, each sending a
// request with markup in it, and waits until the API serves the n
// tcp.payload events with the bytes kept exactly.
func sendPayloads(t *testing.T, r *running, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", r.listeners["banner"])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /<script>alert(%d)</script> HTTP/1.0\r\n\r\n", i)
		c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page store.EventPage
		getJSON(t, "http://"+r.listeners["http"]+"/api/v1/events?kind=tcp.payload&limit=10", &page)
		if len(page.Events) == n {
			if !strings.Contains(page.Events[0].Str("payload"), "<script>") || page.Events[0].Sensor != "t1" {
				t.Fatalf("payload not kept exactly: %+v", page.Events[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d payload events", len(page.Events))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeEndToEnd: a connection to a sensor becomes events in the store,
// visible through the API, and a graceful stop stores the closing events.
func TestServeEndToEnd(t *testing.T) {
	cfg := testConfig(t, "")
	r := start(t, cfg)
	var h map[string]string
	if getJSON(t, "http://"+r.listeners["http"]+"/healthz", &h); h["status"] != "ok" {
		t.Fatalf("healthz: %v", h)
	}
	sendPayloads(t, r, 5)
	var st store.Stats
	getJSON(t, "http://"+r.listeners["http"]+"/api/v1/stats", &st)
	if st.Total < 10 {
		t.Fatalf("stats total %d", st.Total)
	}
	var e map[string]string
	if code := getJSON(t, "http://"+r.listeners["http"]+"/api/v1/events?src_ip=nope", &e); code != 400 || e["error"] == "" {
		t.Fatalf("bad query answered %d %v", code, e)
	}
	// Sessions still open at shutdown are closed and their events stored.
	c, err := net.Dial("tcp", r.listeners["banner"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(200 * time.Millisecond)
	r.stop(t)
	db, err := sqlite.Open(context.Background(), filepath.Join(cfg.DataDir, "kansoku.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.Events(context.Background(), store.EventQuery{Kind: "session.closed", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 6 {
		t.Fatalf("%d session.closed stored after shutdown, want 6", len(page.Events))
	}
	if page.Events[0].Str("reason") != "shutdown" {
		t.Errorf("last session closed with %q, want shutdown", page.Events[0].Str("reason"))
	}
}

func TestPortInUseNamesSensorAndPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, "")
	s := cfg.Sensors["banner"]
	s.Listen = ln.Addr().String()
	cfg.Sensors["banner"] = s
	err = app.Run(context.Background(), cfg, app.Options{Parts: app.All})
	if err == nil || !strings.Contains(err.Error(), "banner") || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("error %v does not name the sensor and port", err)
	}
}

func TestUnwritableDataDir(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.DataDir = "/proc/kansoku-cannot-write-here"
	err := app.Run(context.Background(), cfg, app.Options{Parts: app.All})
	if err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestServeRejectsBadSandboxLimit: a bad analysis.sandbox value stops serve
// before anything listens, naming the key and its line.
func TestServeRejectsBadSandboxLimit(t *testing.T) {
	cfg := testConfig(t, "analysis:\n  sandbox:\n    memory_bytes: 1024\n")
	err := app.Run(context.Background(), cfg, app.Options{Parts: app.All})
	if err == nil || !strings.Contains(err.Error(), "line 10: analysis.sandbox.memory_bytes") {
		t.Fatalf("err = %v", err)
	}
}
