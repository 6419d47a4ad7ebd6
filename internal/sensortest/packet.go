package sensortest

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"go.uber.org/goleak"
)

// runPacket is the suite for UDP sensors: shutdown, leaks and panic recovery.
// Per-source budgets are protocol-specific and proven by the sensor's tests.
func runPacket(t *testing.T, o Options) {
	t.Run("ShutdownAndLeaks", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		in := Start(t, o, sensor.DefaultLimits())
		c, err := net.Dial("udp", in.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("probe"))
		if err := in.Stop(t); err != nil {
			t.Fatalf("Serve returned %v on shutdown", err)
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
		ps := &panicOnce{PacketSensor: s.(sensor.PacketSensor)}
		in := StartSensor(t, f, ps, env, rec, sensor.DefaultLimits())
		in.Recorder.WaitFor(t, "sensor.panic", Wait, func(evs []*event.Event) bool { return Count(evs, "sensor.panic", nil) == 1 })
		// Served again after the panic: the socket still answers the sensor.
		deadline := time.Now().Add(Wait)
		for !ps.restarted() {
			if time.Now().After(deadline) {
				t.Fatal("packet sensor not restarted after a panic")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

type panicOnce struct {
	sensor.PacketSensor
	calls chan struct{}
}

func (p *panicOnce) ServePacket(ctx context.Context, pc net.PacketConn, env sensor.Env) error {
	if p.calls == nil {
		p.calls = make(chan struct{}, 2)
		p.calls <- struct{}{}
		panic("sensortest: injected panic")
	}
	select {
	case p.calls <- struct{}{}:
	default:
	}
	return p.PacketSensor.ServePacket(ctx, pc, env)
}

func (p *panicOnce) restarted() bool { return len(p.calls) >= 2 }
