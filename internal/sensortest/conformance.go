package sensortest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"go.uber.org/goleak"
)

// Options describe the sensor under test.
type Options struct {
	Factory string // registered sensor name
	Config  string // YAML of the sensor's own keys
	// Env adjusts the environment (services, data dir) before New.
	Env func(*sensor.Env)
	// Exchange drives one ordinary session as a client would. Optional.
	Exchange func(t testing.TB, c net.Conn)
}

// Wait bounds how long the suite waits for the sensor to react; a hang
// guard, not a performance figure.
const Wait = 15 * time.Second

// Instance is a sensor running behind the real runner on loopback.
type Instance struct {
	Runner   *sensor.Runner
	Recorder *Recorder
	Addr     string
	cancel   context.CancelFunc
	done     chan error
}

// Start builds the sensor from o and serves it on 127.0.0.1:0 with limits.
func Start(t testing.TB, o Options, limits sensor.Limits) *Instance {
	t.Helper()
	f, ok := sensor.Lookup(o.Factory)
	if !ok {
		t.Fatalf("sensor %q is not registered", o.Factory)
	}
	rec := NewRecorder()
	env := sensor.Env{Name: f.Name, SensorName: "test-sensor", DataDir: t.TempDir(), Emitter: rec,
		Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("sensortest-seed")}
	if o.Env != nil {
		o.Env(&env)
	}
	s, err := f.New(env, DecodeYAML(o.Config))
	if err != nil {
		t.Fatalf("new %s: %v", o.Factory, err)
	}
	return StartSensor(t, f, s, env, rec, limits)
}

// StartSensor serves an already built sensor.
func StartSensor(t testing.TB, f sensor.Factory, s sensor.Sensor, env sensor.Env, rec *Recorder, limits sensor.Limits) *Instance {
	t.Helper()
	r := &sensor.Runner{Name: f.Name, Factory: f, Sensor: s, Limits: limits, Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		cancel()
		t.Fatal(err)
	}
	in := &Instance{Runner: r, Recorder: rec, Addr: r.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- r.Serve(ctx) }()
	t.Cleanup(func() { _ = in.Stop(t) })
	return in
}

// Stop shuts the sensor down and waits for Serve to return.
func (in *Instance) Stop(t testing.TB) error {
	t.Helper()
	in.cancel()
	select {
	case err, ok := <-in.done:
		if ok {
			close(in.done)
		}
		return err
	case <-time.After(Wait):
		t.Fatalf("sensor did not stop within %s", Wait)
	}
	return nil
}

// Dial connects to the instance, optionally from a given loopback source.
func (in *Instance) Dial(t testing.TB, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: Wait}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", in.Addr)
	if err != nil {
		t.Fatalf("dial %s: %v", in.Addr, err)
	}
	return c
}

// Run executes the conformance suite against the sensor described by o.
func Run(t *testing.T, o Options) {
	f, ok := sensor.Lookup(o.Factory)
	if !ok {
		t.Fatalf("sensor %q is not registered", o.Factory)
	}
	if f.Transport == "udp" {
		runPacket(t, o)
		return
	}
	t.Run("SessionEvents", func(t *testing.T) {
		in := Start(t, o, sensor.DefaultLimits())
		c := in.Dial(t, "127.0.0.3")
		if o.Exchange != nil {
			o.Exchange(t, c)
		}
		c.Close()
		evs := in.Recorder.WaitFor(t, "session.closed", Wait, func(evs []*event.Event) bool { return Count(evs, "session.closed", nil) == 1 })
		connect := evs[0]
		if connect.Kind != "session.connect" || connect.SrcIP.String() != "127.0.0.3" || connect.Session == "" {
			t.Fatalf("first event = %+v, want session.connect from 127.0.0.3", connect)
		}
		for _, e := range evs {
			if e.Session != connect.Session || e.Sensor != "test-sensor" || e.Honeypot == "" {
				t.Errorf("event %s has session %q sensor %q honeypot %q", e.Kind, e.Session, e.Sensor, e.Honeypot)
			}
		}
	})
	t.Run("GlobalSessionCap", func(t *testing.T) {
		l := sensor.DefaultLimits()
		l.MaxSessions = 2
		in := Start(t, o, l)
		a, b := in.Dial(t, "127.0.0.4"), in.Dial(t, "127.0.0.5")
		defer a.Close()
		defer b.Close()
		in.Recorder.WaitFor(t, "two sessions", Wait, func(evs []*event.Event) bool { return Count(evs, "session.connect", nil) == 2 })
		c := in.Dial(t, "127.0.0.6")
		defer c.Close()
		assertClosedByServer(t, c)
		if n := Count(in.Recorder.Events(), "session.connect", nil); n != 2 {
			t.Fatalf("%d sessions accepted over a cap of 2", n)
		}
	})
	t.Run("PerSourceCap", func(t *testing.T) {
		l := sensor.DefaultLimits()
		l.MaxSessionsPerIP = 1
		in := Start(t, o, l)
		a := in.Dial(t, "127.0.0.7")
		defer a.Close()
		in.Recorder.WaitFor(t, "first session", Wait, func(evs []*event.Event) bool { return Count(evs, "session.connect", nil) == 1 })
		b := in.Dial(t, "127.0.0.7")
		defer b.Close()
		assertClosedByServer(t, b)
		c := in.Dial(t, "127.0.0.8")
		defer c.Close()
		in.Recorder.WaitFor(t, "session from another source", Wait, func(evs []*event.Event) bool {
			return Count(evs, "session.connect", func(e *event.Event) bool { return e.SrcIP.String() == "127.0.0.8" }) == 1
		})
		if n := Count(in.Recorder.Events(), "session.connect", func(e *event.Event) bool { return e.SrcIP.String() == "127.0.0.7" }); n != 1 {
			t.Fatalf("%d sessions from one source over a cap of 1", n)
		}
	})
	t.Run("IdleTimeout", func(t *testing.T) {
		l := sensor.DefaultLimits()
		l.IdleTimeout = 300 * time.Millisecond
		in := Start(t, o, l)
		c := in.Dial(t, "")
		defer c.Close()
		go io.Copy(io.Discard, c) // a silent client that still reads
		evs := in.Recorder.WaitFor(t, "idle close", Wait, func(evs []*event.Event) bool { return Count(evs, "session.closed", nil) == 1 })
		if r := closed(evs).Str("reason"); r != sensor.ReasonIdle {
			t.Fatalf("close reason %q, want %q", r, sensor.ReasonIdle)
		}
	})
	t.Run("SessionTimeout", func(t *testing.T) {
		l := sensor.DefaultLimits()
		l.SessionTimeout = 500 * time.Millisecond
		in := Start(t, o, l)
		c := in.Dial(t, "")
		defer c.Close()
		stop := make(chan struct{})
		defer close(stop)
		go io.Copy(io.Discard, c)
		go func() { // a client that keeps talking, so only the total limit can end it
			tk := time.NewTicker(50 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
					if _, err := c.Write([]byte("\r\n")); err != nil {
						return
					}
				}
			}
		}()
		evs := in.Recorder.WaitFor(t, "timeout close", Wait, func(evs []*event.Event) bool { return Count(evs, "session.closed", nil) == 1 })
		if r := closed(evs).Str("reason"); r != sensor.ReasonTimeout && r != sensor.ReasonServer {
			t.Fatalf("close reason %q, want %q", r, sensor.ReasonTimeout)
		}
	})
	t.Run("ByteCap", func(t *testing.T) {
		l := sensor.DefaultLimits()
		l.MaxBytes = 2048
		in := Start(t, o, l)
		c := in.Dial(t, "")
		defer c.Close()
		go io.Copy(io.Discard, c)
		junk := []byte(strings.Repeat("A", 1023) + "\n")
		for i := 0; i < 256; i++ {
			if _, err := c.Write(junk); err != nil {
				break
			}
		}
		evs := in.Recorder.WaitFor(t, "byte cap close", Wait, func(evs []*event.Event) bool { return Count(evs, "session.closed", nil) == 1 })
		e := closed(evs)
		if e.Int("bytes_in") > l.MaxBytes {
			t.Fatalf("sensor read %d bytes over a cap of %d", e.Int("bytes_in"), l.MaxBytes)
		}
		if r := e.Str("reason"); r != sensor.ReasonBytes && r != sensor.ReasonServer && r != sensor.ReasonClient {
			t.Fatalf("close reason %q after flooding", r)
		}
	})
	t.Run("PanicIsolation", func(t *testing.T) {
		f, _ := sensor.Lookup(o.Factory)
		rec := NewRecorder()
		env := sensor.Env{Name: f.Name, SensorName: "test-sensor", DataDir: t.TempDir(), Emitter: rec, Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("sensortest-seed")}
		if o.Env != nil {
			o.Env(&env)
		}
		s, err := f.New(env, DecodeYAML(o.Config))
		if err != nil {
			t.Fatal(err)
		}
		in := StartSensor(t, f, &poisoned{StreamSensor: s.(sensor.StreamSensor)}, env, rec, sensor.DefaultLimits())
		c := in.Dial(t, "127.0.0.9")
		c.Write([]byte("x\r\n"))
		in.Recorder.WaitFor(t, "sensor.panic", Wait, func(evs []*event.Event) bool { return Count(evs, "sensor.panic", nil) == 1 })
		c.Close()
		// The sensor keeps serving: a second session runs to its end.
		c2 := in.Dial(t, "127.0.0.10")
		c2.Close()
		evs := in.Recorder.WaitFor(t, "two closed sessions", Wait, func(evs []*event.Event) bool { return Count(evs, "session.closed", nil) == 2 })
		if Count(evs, "session.closed", func(e *event.Event) bool { return e.Str("reason") == sensor.ReasonPanic }) != 1 {
			var reasons []string
			for _, e := range evs {
				if e.Kind == "session.closed" {
					reasons = append(reasons, e.Str("reason"))
				}
			}
			t.Fatalf("the panicked session was not closed with reason panic; reasons %q", reasons)
		}
	})
	t.Run("ShutdownAndLeaks", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		in := Start(t, o, sensor.DefaultLimits())
		for i := 0; i < 3; i++ {
			c := in.Dial(t, "")
			defer c.Close()
			go io.Copy(io.Discard, c)
		}
		in.Recorder.WaitFor(t, "three sessions", Wait, func(evs []*event.Event) bool { return Count(evs, "session.connect", nil) == 3 })
		if err := in.Stop(t); err != nil {
			t.Fatalf("Serve returned %v on shutdown", err)
		}
		evs := in.Recorder.Events()
		if n := Count(evs, "session.closed", nil); n != 3 {
			t.Fatalf("%d session.closed after shutdown, want 3", n)
		}
		if _, err := net.DialTimeout("tcp", in.Addr, time.Second); err == nil {
			t.Fatal("sensor still accepts after shutdown")
		}
	})
}

func closed(evs []*event.Event) *event.Event {
	for _, e := range evs {
		if e.Kind == "session.closed" {
			return e
		}
	}
	return nil
}

// assertClosedByServer reads until the server closes the connection.
func assertClosedByServer(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(Wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection over the cap was not closed by the server")
	}
}

// poisoned wraps a sensor so its first read panics deep in its own code path.
type poisoned struct {
	sensor.StreamSensor
	done atomic.Bool
}

func (p *poisoned) HandleConn(ctx context.Context, s *sensor.Session) error {
	if p.done.CompareAndSwap(false, true) {
		s.Conn = panicConn{s.Conn}
	}
	return p.StreamSensor.HandleConn(ctx, s)
}

type panicConn struct{ net.Conn }

func (panicConn) Read([]byte) (int, error) { panic("sensortest: injected panic") }
