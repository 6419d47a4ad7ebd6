package http_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	shttp "github.com/kansoku/kansoku/internal/sensor/http"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// FuzzExtract: payload extraction is bounded and never panics.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "replays", "*.http"))
	for _, p := range files {
		data, _ := os.ReadFile(p)
		r := parseRaw(f, data)
		f.Add(r.target, string(r.body))
	}
	f.Fuzz(func(t *testing.T, target, body string) {
		ins := shttp.Extract(shttp.Request{Target: target, Body: []byte(body), Headers: [][2]string{{"User-Agent", body}}})
		if len(ins) > 16 {
			t.Fatalf("%d injections", len(ins))
		}
	})
}

// FuzzServe feeds raw bytes to the request handler as a client would: it
// must answer or close, never panic, within the session's limits.
func FuzzServe(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "replays", "*.http"))
	for _, p := range files {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))
	fs, _ := sensor.Lookup("http")
	rec := sensortest.NewRecorder()
	env := sensor.Env{Name: "http", SensorName: "fuzz", DataDir: f.TempDir(), Emitter: rec, Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("fuzz")}
	s, err := fs.New(env, sensortest.DecodeYAML("profile: router-dlink\ntiming: false\nfetch: false\n"))
	if err != nil {
		f.Fatal(err)
	}
	h := s.(sensor.StreamSensor)
	f.Fuzz(func(t *testing.T, data []byte) {
		l := sensor.DefaultLimits()
		sess := sensor.NewSession(&byteConn{r: bytes.NewReader(data)}, &env, "http", l)
		if err := h.HandleConn(context.Background(), sess); err != nil && !errors.Is(err, sensor.ErrByteLimit) {
			t.Logf("HandleConn: %v", err)
		}
	})
}

// byteConn is a client that sends data, then closes its side; what the
// server writes is discarded.
type byteConn struct{ r *bytes.Reader }

func (c *byteConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *byteConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *byteConn) Close() error                { return nil }
func (c *byteConn) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *byteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000}
}
func (c *byteConn) SetDeadline(t time.Time) error      { return nil }
func (c *byteConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *byteConn) SetWriteDeadline(t time.Time) error { return nil }
