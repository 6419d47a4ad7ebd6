package rdp_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/rdp"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// countEmitter counts events and keeps none, so a long benchmark measures
// the sensor, not a growing slice.
type countEmitter struct{ logons atomic.Int64 }

func (c *countEmitter) Emit(_ context.Context, e *event.Event) error {
	if e.Kind == "login.failed" {
		c.logons.Add(1)
	}
	return nil
}
func (c *countEmitter) PutSample(context.Context, []byte) (sensor.SampleInfo, error) {
	return sensor.SampleInfo{}, nil
}
func (c *countEmitter) PutRecording(context.Context, string, []byte) error { return nil }

func serveBench(b *testing.B) (string, *countEmitter) {
	f, _ := sensor.Lookup("rdp")
	em := &countEmitter{}
	env := sensor.Env{Name: "rdp", SensorName: "bench", DataDir: b.TempDir(), Emitter: em, Logger: slog.New(slog.DiscardHandler), Seed: []byte("bench")}
	s, err := f.New(env, sensortest.DecodeYAML(""))
	if err != nil {
		b.Fatal(err)
	}
	l := sensor.DefaultLimits()
	l.MaxSessionsPerIP = 1 << 20
	r := &sensor.Runner{Name: "rdp", Factory: f, Sensor: s, Limits: l, Env: env}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.Listen(ctx, "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = r.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return r.Addr().String(), em
}

// BenchmarkLogon: complete logon attempts through NTLM capture (X.224,
// TLS, CredSSP NEGOTIATE/CHALLENGE/AUTHENTICATE, logon failure), one
// connection each, from parallel clients on loopback. "full" makes a new
// TLS handshake every time (RSA-2048 certificate, as Windows'); "resumed"
// lets the client resume TLS sessions. The bare baselines are a Go TLS
// server with the same kind of certificate that answers one record: the
// cost of the connection and handshake alone.
func BenchmarkLogon(b *testing.B) {
	for _, resume := range []bool{false, true} {
		name := "full"
		if resume {
			name = "resumed"
		}
		b.Run("sensor/"+name, func(b *testing.B) {
			addr, em := serveBench(b)
			cfg := &tls.Config{InsecureSkipVerify: true}
			if resume {
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(64)
			}
			run(b, func() error {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				cl := &rdpClient{User: "user", Password: "Password1", Domain: "CORP", Workstation: "WS", Cookie: "user", Protocols: rdp.ProtoSSL | rdp.ProtoHybrid, TLS: cfg}
				_, err = cl.logon(c)
				return err
			})
			// The last events may still be in flight when the clients return.
			for i := 0; i < 100 && em.logons.Load() < int64(b.N); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if got := em.logons.Load(); got < int64(b.N) {
				b.Fatalf("%d logons recorded of %d", got, b.N)
			}
		})
		b.Run("baseline/"+name, func(b *testing.B) {
			addr := bareTLS(b)
			cfg := &tls.Config{InsecureSkipVerify: true}
			if resume {
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(64)
			}
			run(b, func() error {
				c, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					return err
				}
				defer c.Close()
				if _, err := c.Write([]byte("ping")); err != nil {
					return err
				}
				_, err = io.ReadFull(c, make([]byte, 4))
				return err
			})
		})
	}
}

func run(b *testing.B, attempt func() error) {
	b.SetParallelism(4)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := attempt(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "attempts/s")
}

// bareTLS serves TLS 1.2 with an RSA-2048 certificate and echoes 4 bytes.
func bareTLS(b *testing.B) string {
	s, err := rdp.New(sensor.Env{DataDir: b.TempDir(), Seed: []byte("bench")}, sensortest.DecodeYAML(""))
	if err != nil {
		b.Fatal(err)
	}
	cfg := s.(*rdp.Sensor).TLSConfig()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				buf := make([]byte, 4)
				if _, err := io.ReadFull(tc, buf); err == nil {
					tc.Write(buf)
				}
			}()
		}
	}()
	b.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
