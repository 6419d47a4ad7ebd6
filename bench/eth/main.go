// Command eth measures the Ethereum honeypot (docs/benchmarks-eth.md):
// JSON-RPC requests per second over loopback HTTP keep-alive connections,
// with classification and recording on (every call becomes an rpc.call
// event written to a sensor's disk spool), against a bare net/http JSON
// server measured in the same run with the same driver.
//
//	go run ./bench/eth -c 32 -d 10s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	_ "github.com/kansoku/kansoku/internal/sensor/eth"
	"go.yaml.in/yaml/v3"
)

func main() {
	conc := flag.Int("c", 32, "concurrent client connections")
	dur := flag.Duration("d", 10*time.Second, "duration of each measurement")
	emitter := flag.String("emitter", "spool", "spool (events written to a disk spool, as a sensor does) or count (counted in memory)")
	flag.Parse()
	if err := run(*conc, *dur, *emitter); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// mix is what one attacker connection sends, in a loop: the information
// gathering, balance sweep, unlock brute force and theft attempts seen in
// the wild.
var mix = []string{
	`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`,
	`{"jsonrpc":"2.0","id":2,"method":"eth_accounts","params":[]}`,
	`{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"]}`,
	`{"jsonrpc":"2.0","id":4,"method":"personal_unlockAccount","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","123456",0]}`,
	`{"jsonrpc":"2.0","id":5,"method":"eth_sendTransaction","params":[{"from":"0x407d73d8a49eeb85d32cf465507dd71d507100c1","to":"0x00000000000000000000000000000000deadbeef","value":"0x3635c9adc5dea00000","gas":"0x5208","gasPrice":"0x4a817c800"}]}`,
	`{"jsonrpc":"2.0","id":6,"method":"web3_clientVersion","params":[]}`,
	`{"jsonrpc":"2.0","id":7,"method":"net_version","params":[]}`,
	`{"jsonrpc":"2.0","id":8,"method":"eth_getBlockByNumber","params":["latest",false]}`,
}

type counter struct{ n atomic.Int64 }

func (c *counter) Emit(context.Context, *event.Event) error { c.n.Add(1); return nil }
func (c *counter) PutSample(context.Context, []byte) (sensor.SampleInfo, error) {
	return sensor.SampleInfo{}, nil
}
func (c *counter) PutRecording(context.Context, string, []byte) error { return nil }

func run(conc int, dur time.Duration, emitterKind string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Baseline: a bare net/http server that decodes the JSON request and
	// encodes a JSON reply, nothing else.
	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &req)
		out, _ := json.Marshal(struct {
			Version string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Result  string          `json:"result"`
		}{"2.0", req.ID, "0x1"})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})}
	go func() { _ = bare.Serve(bl) }()
	defer bare.Close()

	// The sensor, behind the real runner, recording every call.
	dir, err := os.MkdirTemp("", "bench-eth")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var em sensor.Emitter
	var cnt *counter
	var sp *bus.Spool
	switch emitterKind {
	case "spool":
		if sp, err = bus.OpenSpool(dir, nil, bus.SpoolOptions{MaxBytes: 8 << 30}); err != nil {
			return err
		}
		defer sp.Close()
		em = sp
	case "count":
		cnt = &counter{}
		em = cnt
	default:
		return fmt.Errorf("unknown emitter %q", emitterKind)
	}
	f, _ := sensor.Lookup("eth")
	env := sensor.Env{Name: "eth", SensorName: "bench", DataDir: dir, Emitter: em, Logger: slog.New(slog.DiscardHandler), Seed: []byte("bench-seed"), Services: map[string]any{}}
	s, err := f.New(env, func(v any) error { return yaml.Unmarshal([]byte("transport: http\n"), v) })
	if err != nil {
		return err
	}
	limits := sensor.DefaultLimits()
	limits.MaxSessionsPerIP = conc + 1
	limits.MaxBytes = 1 << 40
	limits.SessionTimeout = time.Hour
	r := &sensor.Runner{Name: "eth", Factory: f, Sensor: s, Limits: limits, Env: env}
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()

	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s; %d connections, %s per run, %d-call request mix, emitter %s\n",
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), conc, dur, len(mix), emitterKind)
	baseRate, err := drive(bl.Addr().String(), conc, dur)
	if err != nil {
		return err
	}
	fmt.Printf("bare net/http JSON:        %8.0f requests/s\n", baseRate)
	ethRate, err := drive(r.Addr().String(), conc, dur)
	if err != nil {
		return err
	}
	fmt.Printf("eth sensor (classified, recorded): %8.0f requests/s  (%.2f of bare)\n", ethRate, ethRate/baseRate)
	cancel()
	<-done
	if cnt != nil {
		fmt.Printf("events emitted: %d\n", cnt.n.Load())
	}
	return nil
}

// drive runs conc keep-alive connections sending the mix for d and
// returns the rate of answered requests.
func drive(addr string, conc int, d time.Duration) (float64, error) {
	reqs := make([][]byte, len(mix))
	for i, body := range mix {
		reqs[i] = fmt.Appendf(nil, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	}
	var total atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				once.Do(func() { firstErr = err })
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			n := 0
			for j := i; time.Now().Before(deadline); j++ {
				req := reqs[j%len(reqs)]
				if _, err := c.Write(req); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte(`{"jsonrpc":"2.0"`)) {
					once.Do(func() { firstErr = fmt.Errorf("bad reply %d %q", resp.StatusCode, body) })
					return
				}
				n++
			}
			total.Add(int64(n))
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds(), firstErr
}
