// Command iot measures the Telnet IoT sensor with a Mirai-loader-like
// driver (docs/benchmarks-iot.md): full infection sessions at a given
// concurrency, login+probe sessions, and the memory of many idle sessions.
// The sensor runs in a child process (so its RSS is its own) with an
// in-memory emitter that keeps counts and recordings' sizes.
//
//	go run ./bench/iot -mode full -c 64 -n 2000
//	go run ./bench/iot -mode probes -c 64 -n 20000
//	go run ./bench/iot -mode idle -n 10000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet"
)

func main() {
	role := flag.String("role", "driver", "driver or server (internal)")
	mode := flag.String("mode", "full", "full, probes, idle, or bare (a bare Go line server, the yardstick)")
	conc := flag.Int("c", 64, "concurrent bots")
	n := flag.Int("n", 1000, "sessions (idle: sessions held open)")
	record := flag.Bool("record", true, "record sessions (asciicast)")
	profile := flag.String("profile", "router-mipsel", "device profile")
	flag.BoolVar(&idleLogin, "idle-login", true, "idle mode: log in before idling (else idle at the login prompt)")
	cpuprofile := flag.String("cpuprofile", "", "write the sensor's CPU profile here")
	flag.StringVar(&heapProfile, "memprofile", "", "write the sensor's heap profile here (server role)")
	driverProfile := flag.String("driverprofile", "", "write the driver's CPU profile here")
	flag.Parse()
	raiseFDLimit()
	if *role == "server" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err == nil {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		if *profile == "bare" {
			serveBare()
			return
		}
		serve(*profile, *record)
		return
	}
	if *driverProfile != "" {
		if f, err := os.Create(*driverProfile); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := drive(*mode, *conc, *n, *profile, *record, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	heapProfile string
	idleLogin   bool
)

func raiseFDLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// countEmitter is an in-memory emitter: it counts what it is given.
type countEmitter struct {
	events, samples, recordings, recBytes atomic.Int64
}

func (c *countEmitter) Emit(context.Context, *event.Event) error { c.events.Add(1); return nil }
func (c *countEmitter) PutSample(_ context.Context, d []byte) (sensor.SampleInfo, error) {
	c.samples.Add(1)
	return sensor.SampleInfo{Size: int64(len(d))}, nil
}
func (c *countEmitter) PutRecording(_ context.Context, _ string, d []byte) error {
	c.recordings.Add(1)
	c.recBytes.Add(int64(len(d)))
	return nil
}

// serve runs the sensor on 127.0.0.1:0, prints its address, and prints
// the emitter's counts when stdin closes.
func serve(profile string, record bool) {
	em := &countEmitter{}
	f, _ := sensor.Lookup("telnet")
	env := sensor.Env{Name: "telnet", SensorName: "bench", Emitter: em, Logger: slog.New(slog.DiscardHandler), Seed: []byte("bench"), Services: map[string]any{}}
	cfg := fmt.Sprintf("profile: %s\nrecord: %v\n", profile, record)
	s, err := telnet.New(env, decodeYAML(cfg))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l := sensor.DefaultLimits()
	l.MaxSessions, l.MaxSessionsPerIP = 50000, 50000
	r := &sensor.Runner{Name: "telnet", Factory: f, Sensor: s, Limits: l, Env: env}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(r.Addr().String())
	go func() {
		// One line on stdin asks for the counts; EOF stops the server.
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if heapProfile != "" {
				if f, err := os.Create(heapProfile); err == nil {
					runtime.GC()
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			fmt.Printf("events=%d samples=%d recordings=%d recording_bytes=%d\n", em.events.Load(), em.samples.Load(), em.recordings.Load(), em.recBytes.Load())
		}
		cancel()
	}()
	r.Serve(ctx)
}

type server struct {
	cmd   *exec.Cmd
	addr  string
	out   *bufio.Reader
	stdin interface{ Write([]byte) (int, error) }
}

func startServer(profile string, record bool, cpuprofile string) (*server, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe, "-role", "server", "-profile", profile, fmt.Sprintf("-record=%v", record), "-cpuprofile", cpuprofile, "-memprofile", heapProfile)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	r := bufio.NewReader(stdout)
	addr, err := r.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, nil, fmt.Errorf("server did not start: %w", err)
	}
	s := &server{cmd: cmd, addr: strings.TrimSpace(addr), out: r, stdin: stdin}
	stop := func() { stdin.Close(); cmd.Wait() }
	return s, stop, nil
}

func (s *server) counts() string {
	s.stdin.Write([]byte("\n"))
	l, _ := s.out.ReadString('\n')
	return strings.TrimSpace(l)
}

func (s *server) rssKB() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb int
			fmt.Sscanf(strings.TrimSpace(l[6:]), "%d", &kb)
			return kb
		}
	}
	return 0
}

// cpuSeconds is the server process's user+system CPU time so far.
func (s *server) cpuSeconds() float64 { return procCPU(s.cmd.Process.Pid) }

// procCPU is a process's user+system CPU time so far.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100 // USER_HZ
}

func drive(mode string, conc, n int, profile string, record bool, cpuprofile string) error {
	if mode == "bare" {
		profile = "bare"
	}
	srv, stop, err := startServer(profile, record, cpuprofile)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Printf("machine: %d CPUs, %s, sensor telnet profile %s, recording %v\n", runtime.NumCPU(), runtime.Version(), profile, record)
	switch mode {
	case "full", "probes":
		return throughput(srv, mode, conc, n)
	case "idle":
		return idle(srv, n)
	case "bare":
		return bareThroughput(srv, conc, n)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func throughput(srv *server, mode string, conc, n int) error {
	var next, done, failed, trips atomic.Int64
	var firstErr atomic.Value
	cpu0, self0 := srv.cpuSeconds(), procCPU(os.Getpid())
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				rt, err := session(srv.addr, mode == "full")
				trips.Add(int64(rt))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu, self := srv.cpuSeconds()-cpu0, procCPU(os.Getpid())-self0
	fmt.Printf("mode=%s concurrency=%d sessions=%d failed=%d elapsed=%.2fs\n", mode, conc, done.Load(), failed.Load(), el.Seconds())
	fmt.Printf("sessions/s=%.1f round-trips/s=%.0f round-trips/session=%.0f\n", float64(done.Load())/el.Seconds(), float64(trips.Load())/el.Seconds(), float64(trips.Load())/float64(max(1, done.Load()+failed.Load())))
	fmt.Printf("sensor cpu=%.2fs (%.2f cores busy) cpu/session=%.2fms => %.0f sessions per sensor-CPU-second\n", cpu, cpu/el.Seconds(), 1000*cpu/float64(max(1, done.Load())), float64(done.Load())/max(cpu, 0.001))
	fmt.Printf("driver cpu=%.2fs (%.2f cores busy); the driver shares the machine, so wall-clock sessions/s is bounded by 2 cores / (sensor+driver cpu per session)\n", self, self/el.Seconds())
	fmt.Printf("sensor rss=%.1f MB %s\n", float64(srv.rssKB())/1024, srv.counts())
	if e := firstErr.Load(); e != nil {
		fmt.Println("first error:", e)
	}
	return nil
}

func idle(srv *server, n int) error {
	before := srv.rssKB()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", srv.addr, 10*time.Second)
		if err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		conns = append(conns, c)
		b := &bot{c: c, r: bufio.NewReaderSize(c, 4096)}
		if idleLogin {
			err = b.login()
		} else {
			err = b.until("login: ")
		}
		if err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
	}
	time.Sleep(2 * time.Second)
	runtime.GC()
	after := srv.rssKB()
	where := "logged in, at the shell prompt"
	if !idleLogin {
		where = "at the login prompt"
	}
	fmt.Printf("mode=idle sessions=%d (%s) opened in %.1fs\n", n, where, time.Since(start).Seconds())
	fmt.Printf("sensor rss before=%.1f MB with sessions=%.1f MB per session=%.1f KB %s\n", float64(before)/1024, float64(after)/1024, float64(after-before)/float64(n), srv.counts())
	return nil
}
