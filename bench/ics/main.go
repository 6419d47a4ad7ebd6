// Command ics-bench measures the Modbus/TCP sensor on loopback: requests
// answered per second by the modbus sensor behind the real sensor runner
// with recording on (every request an ics.read event, serialised and
// appended to a disk spool, the sensors' emitter), as a ratio to a bare
// simonvetter/modbus server measured in the same run under the same load.
//
//	go run ./bench/ics -duration 5s -rounds 3 -conns 16
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	_ "github.com/kansoku/kansoku/internal/sensor/ics"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/simonvetter/modbus"
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "load time per phase")
	rounds := flag.Int("rounds", 3, "alternating bare/sensor rounds")
	conns := flag.Int("conns", 16, "client connections, each one request in flight")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		if f, err := os.Create(*cpuprofile); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*duration, *rounds, *conns); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "ics-bench:", err)
		os.Exit(1)
	}
}

// bare is the baseline's handler: holding registers 0..4, nothing else.
type bare struct{}

func (bare) HandleCoils(*modbus.CoilsRequest) ([]bool, error) { return nil, modbus.ErrIllegalFunction }
func (bare) HandleDiscreteInputs(*modbus.DiscreteInputsRequest) ([]bool, error) {
	return nil, modbus.ErrIllegalFunction
}
func (bare) HandleInputRegisters(*modbus.InputRegistersRequest) ([]uint16, error) {
	return nil, modbus.ErrIllegalFunction
}
func (bare) HandleHoldingRegisters(r *modbus.HoldingRegistersRequest) ([]uint16, error) {
	if r.IsWrite || int(r.Addr)+int(r.Quantity) > 5 {
		return nil, modbus.ErrIllegalDataAddress
	}
	return make([]uint16, r.Quantity), nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startBare() (string, func(), error) {
	addr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	srv, err := modbus.NewServer(&modbus.ServerConfiguration{URL: "tcp://" + addr, Timeout: time.Minute, MaxClients: 1024,
		Logger: log.New(io.Discard, "", 0)}, bare{})
	if err != nil {
		return "", nil, err
	}
	if err := srv.Start(); err != nil {
		return "", nil, err
	}
	return addr, func() { _ = srv.Stop() }, nil
}

// startSensor runs the modbus sensor (site river) behind the runner with a
// disk spool as its emitter; it returns the events spooled so far.
func startSensor(dir string) (string, func() int64, func(), error) {
	sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{MaxBytes: 8 << 30})
	if err != nil {
		return "", nil, nil, err
	}
	f, _ := sensor.Lookup("modbus")
	env := sensor.Env{Name: "modbus", SensorName: "bench", DataDir: dir, Emitter: &counting{Emitter: sp}, Logger: slog.New(slog.DiscardHandler),
		Services: map[string]any{}, Seed: []byte("bench")}
	s, err := f.New(env, sensortest.DecodeYAML("site: river\n"))
	if err != nil {
		return "", nil, nil, err
	}
	limits := sensor.DefaultLimits()
	limits.MaxSessionsPerIP = 1024
	limits.MaxBytes = 1 << 40
	limits.SessionTimeout = time.Hour
	r := &sensor.Runner{Name: "modbus", Factory: f, Sensor: s, Limits: limits, Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		cancel()
		return "", nil, nil, err
	}
	done := make(chan struct{})
	go func() { _ = r.Serve(ctx); close(done) }()
	em := env.Emitter.(*counting)
	return r.Addr().String(), em.n.Load, func() { cancel(); <-done; _ = sp.Close() }, nil
}

type counting struct {
	sensor.Emitter
	n atomic.Int64
}

func (c *counting) Emit(ctx context.Context, e *event.Event) error {
	c.n.Add(1)
	return c.Emitter.Emit(ctx, e)
}

// load runs conns clients reading holding registers 0..4 of unit 1, one
// request in flight each, for d; it returns answered requests per second.
func load(addr string, conns int, d time.Duration) (float64, error) {
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	stop := time.Now().Add(d)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			req := []byte{0, 0, 0, 0, 0, 6, 1, 3, 0, 0, 0, 5}
			resp := make([]byte, 9+10)
			n := int64(0)
			for tx := uint16(0); time.Now().Before(stop); tx++ {
				binary.BigEndian.PutUint16(req, tx)
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, resp); err != nil {
					errs <- err
					return
				}
				if binary.BigEndian.Uint16(resp) != tx || resp[7] != 3 {
					errs <- fmt.Errorf("bad answer % x", resp)
					return
				}
				n++
			}
			total.Add(n)
		}(i)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(total.Load()) / d.Seconds(), nil
}

func run(d time.Duration, rounds, conns int) error {
	dir, err := os.MkdirTemp("", "ics-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("modbus read holding registers (FC 3, 5 registers), %d connections, %s per phase, GOMAXPROCS from the machine\n", conns, d)
	fmt.Printf("%-6s %18s %26s %8s %14s\n", "round", "bare simonvetter", "kansoku modbus+recording", "ratio", "events spooled")
	var ratios []float64
	for r := 1; r <= rounds; r++ {
		addr, stopBare, err := startBare()
		if err != nil {
			return err
		}
		b, err := load(addr, conns, d)
		stopBare()
		if err != nil {
			return fmt.Errorf("bare: %w", err)
		}
		saddr, events, stopSensor, err := startSensor(fmt.Sprintf("%s/round%d", dir, r))
		if err != nil {
			return err
		}
		s, err := load(saddr, conns, d)
		n := events()
		stopSensor()
		if err != nil {
			return fmt.Errorf("sensor: %w", err)
		}
		ratios = append(ratios, s/b)
		fmt.Printf("%-6d %14.0f r/s %22.0f r/s %8.2f %14d\n", r, b, s, s/b, n)
	}
	sort.Float64s(ratios)
	fmt.Printf("median ratio %.2f (min %.2f, max %.2f)\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
	return nil
}
