package amp

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// BenchmarkProcessAttack is the per-request cost of the packet path for an
// ongoing attack (spent budget, detection, sampling) without the socket.
func BenchmarkProcessAttack(b *testing.B) {
	hub := NewHub(DefaultShared())
	env := sensor.Env{Emitter: sensortest.NewRecorder(), Logger: slog.New(slog.DiscardHandler), Seed: []byte("b"), Services: map[string]any{ServiceHub: hub}}
	cfg := DefaultConfig()
	s, err := NewSensor(env, cfg)
	if err != nil {
		b.Fatal(err)
	}
	q := anyQuery(b)
	src, dst := netip.MustParseAddrPort("192.0.2.7:5353"), netip.MustParseAddrPort("127.0.0.1:10053")
	w := func(p []byte, _ netip.AddrPort) (int, error) { return len(p), nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.Process(ctx, env, q, src, dst, 57, w)
	}
}

// BenchmarkTrackerSpoofed feeds the detection table distinct sources until
// it is full and evicting.
func BenchmarkTrackerSpoofed(b *testing.B) {
	tr := NewTracker(TrackerConfig{Threshold: 100, Timeout: time.Hour, UpdateInterval: time.Minute, MaxEntries: 100_000, SampleFirst: 3, SampleEvery: 1000})
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		tr.Observe(now, Observation{Src: netip.AddrPortFrom(a, 53), Proto: 1, Bytes: 40, TTL: 57, Content: "ANY example.org."})
	}
}
