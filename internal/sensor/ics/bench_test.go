package ics_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/sensor"
)

// memConn is a connection that reads a prepared stream and discards what
// is written: the sensor's own cost per request, without the network.
type memConn struct {
	r *bytes.Reader
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 502} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 40000} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
func (c *memConn) reset(b []byte) *memConn          { c.r.Reset(b); return c }
func newMemConn() *memConn                          { return &memConn{r: bytes.NewReader(nil)} }

// BenchmarkModbusRequests measures the CPU per request of the Modbus
// front end with recording on: a session of 1,000 pipelined FC 3 reads,
// every one an ics.read event serialised into a disk spool (the sensors'
// emitter). bench/ics measures the same over loopback against a bare
// simonvetter/modbus server.
func BenchmarkModbusRequests(b *testing.B) {
	sp, err := bus.OpenSpool(b.TempDir(), nil, bus.SpoolOptions{MaxBytes: 8 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	env := sensor.Env{Name: "modbus", SensorName: "bench", Emitter: sp, Logger: slog.New(slog.DiscardHandler), Services: map[string]any{}, Seed: []byte("bench")}
	s := build(b, "modbus", "site: river\n")
	const perSession = 1000
	var stream []byte
	for i := 0; i < perSession; i++ {
		stream = append(stream, byte(i>>8), byte(i), 0, 0, 0, 6, 1, 3, 0, 0, 0, 5)
	}
	l := sensor.DefaultLimits()
	l.MaxBytes = 1 << 40
	c := newMemConn()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += perSession {
		sess := sensor.NewSession(c.reset(stream), &env, "ics", l)
		if err := s.HandleConn(context.Background(), sess); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
