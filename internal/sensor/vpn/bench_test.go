package vpn_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/vpn"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// countEmitter counts events and keeps none.
type countEmitter struct{ n atomic.Int64 }

func (c *countEmitter) Emit(context.Context, *event.Event) error { c.n.Add(1); return nil }
func (c *countEmitter) PutSample(context.Context, []byte) (sensor.SampleInfo, error) {
	return sensor.SampleInfo{}, nil
}
func (c *countEmitter) PutRecording(context.Context, string, []byte) error { return nil }

// BenchmarkPortal: portal requests per second on loopback over HTTPS
// keep-alive connections (4 parallel clients per core, 100 requests per
// connection, as the sensor allows), each request recorded as an event and
// matched against every exploit signature. "login" posts credentials
// (an extra login.failed event); "exploit" is a CVE-2018-13379 probe.
// The baseline is Go's net/http server over TLS with the same certificate
// answering the same page, no events, no matching.
func BenchmarkPortal(b *testing.B) {
	reqs := map[string]string{
		"page":    "GET /remote/login HTTP/1.1\r\nHost: vpn\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
		"login":   "POST /remote/logincheck HTTP/1.1\r\nHost: vpn\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 52\r\n\r\najax=1&username=alice&realm=&credential=Winter2026!!",
		"exploit": "GET /remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession HTTP/1.1\r\nHost: vpn\r\n\r\n",
	}
	for _, name := range []string{"page", "login", "exploit"} {
		b.Run("sensor/"+name, func(b *testing.B) {
			addr, em := serveBench(b)
			run(b, addr, reqs[name])
			if em.n.Load() < int64(b.N) {
				b.Fatalf("%d events for %d requests", em.n.Load(), b.N)
			}
		})
	}
	b.Run("baseline/page", func(b *testing.B) {
		run(b, bareHTTPS(b), reqs["page"])
	})
}

func serveBench(b *testing.B) (string, *countEmitter) {
	f, _ := sensor.Lookup("vpn")
	em := &countEmitter{}
	env := sensor.Env{Name: "vpn", SensorName: "bench", DataDir: b.TempDir(), Emitter: em, Logger: slog.New(slog.DiscardHandler), Seed: []byte("bench")}
	s, err := f.New(env, sensortest.DecodeYAML("profile: fortigate\n"))
	if err != nil {
		b.Fatal(err)
	}
	l := sensor.DefaultLimits()
	l.MaxSessionsPerIP = 1 << 20
	l.MaxBytes = 1 << 30
	r := &sensor.Runner{Name: "vpn", Factory: f, Sensor: s, Limits: l, Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = r.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return r.Addr().String(), em
}

// run sends req over keep-alive TLS connections from parallel clients,
// reading each answer fully, a new connection every 100 requests.
func run(b *testing.B, addr, req string) {
	cfg := &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(64)}
	b.SetParallelism(4)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var c *tls.Conn
		var br *bufio.Reader
		n := 0
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for pb.Next() {
			if c == nil || n == 100 {
				if c != nil {
					c.Close()
				}
				var err error
				if c, err = tls.Dial("tcp", addr, cfg); err != nil {
					b.Error(err)
					return
				}
				br, n = bufio.NewReader(c), 0
			}
			if _, err := io.WriteString(c, req); err != nil {
				b.Error(err)
				return
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
}

// bareHTTPS is net/http over TLS with the sensor's kind of certificate,
// serving the same login page.
func bareHTTPS(b *testing.B) string {
	s, err := vpn.New(sensor.Env{DataDir: b.TempDir(), Seed: []byte("bench")}, sensortest.DecodeYAML("profile: fortigate\n"))
	if err != nil {
		b.Fatal(err)
	}
	page, err := os.ReadFile("profiles/fortigate/login.html")
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", s.(*vpn.Sensor).TLSConfig())
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) })}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
