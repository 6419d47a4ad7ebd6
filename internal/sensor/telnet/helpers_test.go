package telnet_test

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// client is a scripted Telnet client that, like most bots, ignores the
// server's negotiation.
type client struct {
	t   testing.TB
	c   net.Conn
	buf []byte
	all bytes.Buffer
}

func newClient(t testing.TB, c net.Conn) *client { return &client{t: t, c: c} }

// expect reads until s has arrived and returns what came up to its end.
func (c *client) expect(s string) string {
	c.t.Helper()
	deadline := time.Now().Add(sensortest.Wait)
	tmp := make([]byte, 4096)
	for {
		if i := bytes.Index(c.buf, []byte(s)); i >= 0 {
			out := string(c.buf[:i+len(s)])
			c.buf = c.buf[i+len(s):]
			return out
		}
		c.c.SetReadDeadline(deadline)
		n, err := c.c.Read(tmp)
		c.buf = append(c.buf, tmp[:n]...)
		c.all.Write(tmp[:n])
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", s, err, c.buf)
		}
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// run sends a command line and returns the output up to the next prompt.
func (c *client) run(line, prompt string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	out := c.expect(prompt)
	out = strings.TrimPrefix(out, line+"\r\n") // the tty's echo
	return strings.TrimSuffix(out, prompt)
}

const routerConfig = "profile: router-mipsel\nauth:\n  fail_delay: 0s\n"

func login(t testing.TB, c *client, user, pass string) {
	t.Helper()
	c.expect("login: ")
	c.send(user + "\r\n")
	c.expect("Password: ")
	c.send(pass + "\r\n")
	c.expect("# ")
}

// binServer serves fake ELF "binaries" on 127.0.0.1.
type binServer struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
}

func newBinServer(t testing.TB) *binServer {
	b := &binServer{files: map[string][]byte{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		data, ok := b.files[r.URL.Path]
		b.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *binServer) add(path string, data []byte) string {
	b.mu.Lock()
	b.files[path] = data
	b.mu.Unlock()
	return b.URL + path
}

func fakeELF(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	copy(p, "\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08\x00")
	return p
}

// withFetcher gives the sensor a fetcher that may reach 127.0.0.0/8.
func withFetcher(env *sensor.Env) {
	c := capture.DefaultConfig()
	c.AllowNetworks = []string{"127.0.0.0/8"}
	c.PerHostInterval = 0
	c.Timeout = 10 * time.Second
	env.Services["fetcher"] = capture.New(c, slog.New(slog.DiscardHandler))
}
