package amp

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// testShared are budgets generous enough for real clients that send
// several requests from one address.
func testShared() Shared {
	s := DefaultShared()
	s.ReplyBudget = 1000
	s.EgressRate, s.EgressBurst = 10<<20, 10<<20
	s.MaxEventsPerSecond = 100000
	return s
}

// start serves one amp instance on 127.0.0.1:0 with its own hub.
func start(t testing.TB, protocol string, hub *Hub) (*sensortest.Instance, *Sensor) {
	t.Helper()
	f, _ := sensor.Lookup("amp")
	cfg := DefaultConfig()
	cfg.Protocol = protocol
	cfg.Shared = hub.Config()
	rec := sensortest.NewRecorder()
	env := sensor.Env{Name: "amp-" + protocol, SensorName: "test-sensor", Emitter: rec, Logger: slog.New(slog.DiscardHandler),
		Seed: []byte("sensortest-seed"), Services: map[string]any{ServiceHub: hub}}
	s, err := NewSensor(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sensortest.StartSensor(t, f, s, env, rec, sensor.DefaultLimits()), s
}

// exchange sends req from a socket bound to from and returns the replies
// that arrive before quiet passes without one.
func exchange(t testing.TB, from, to string, req []byte, quiet time.Duration) [][]byte {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(from, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ua, _ := net.ResolveUDPAddr("udp", to)
	if _, err := c.WriteTo(req, ua); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	buf := make([]byte, 65536)
	for {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return out
		}
		out = append(out, append([]byte(nil), buf[:n]...))
	}
}

// startAt serves one instance on a fixed address (for clients that cannot
// be told a port); it skips when the address cannot be bound.
func startAt(t *testing.T, protocol string, hub *Hub, addr string) (*sensortest.Recorder, string) {
	t.Helper()
	f, _ := sensor.Lookup("amp")
	cfg := DefaultConfig()
	cfg.Protocol = protocol
	cfg.Shared = hub.Config()
	rec := sensortest.NewRecorder()
	env := sensor.Env{Name: "amp-" + protocol, SensorName: "test-sensor", Emitter: rec, Logger: slog.New(slog.DiscardHandler),
		Seed: []byte("sensortest-seed"), Services: map[string]any{ServiceHub: hub}}
	s, err := NewSensor(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &sensor.Runner{Name: env.Name, Factory: f, Sensor: s, Limits: sensor.DefaultLimits(), Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Listen(ctx, addr); err != nil {
		cancel()
		t.Skipf("cannot bind %s for a client with a fixed port: %v", addr, err)
	}
	done := make(chan struct{})
	go func() { _ = r.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rec, r.Addr().String()
}
