package ics_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// build makes a sensor for fuzzing.
func build(t testing.TB, factory, cfg string) sensor.StreamSensor {
	t.Helper()
	f, _ := sensor.Lookup(factory)
	env := sensor.Env{Name: factory, SensorName: "fuzz", Emitter: sensortest.NewRecorder(), Services: map[string]any{}, Seed: []byte("fuzz")}
	s, err := f.New(env, sensortest.DecodeYAML(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s.(sensor.StreamSensor)
}

// serveBytes runs a stream sensor over an in-memory connection fed with in
// and returns everything it answered.
func serveBytes(s sensor.StreamSensor, in []byte) []byte {
	env := sensor.Env{SensorName: "fuzz", Emitter: sensortest.NewRecorder()}
	server, client := net.Pipe()
	l := sensor.DefaultLimits()
	l.IdleTimeout = time.Second
	sess := sensor.NewSession(server, &env, "ics", l)
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		out <- b
	}()
	go func() {
		client.Write(in)
		client.Close()
	}()
	_ = s.HandleConn(context.Background(), sess)
	server.Close()
	return <-out
}

// FuzzModbus feeds arbitrary bytes to the Modbus server: it must never
// panic or hang, and everything it sends is well-formed MBAP frames whose
// function code is the request's, plain or as an exception.
func FuzzModbus(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2})
	f.Add([]byte{0, 1, 0, 0, 0, 2, 0, 0x11, 0, 2, 0, 0, 0, 5, 0, 0x2B, 0x0E, 1, 0})
	sensors := []sensor.StreamSensor{build(f, "modbus", "site: river\n"), build(f, "modbus", "site: gate\n")}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, s := range sensors {
			out := serveBytes(s, in)
			for len(out) > 0 {
				if len(out) < 9 || binary.BigEndian.Uint16(out[2:]) != 0 {
					t.Fatalf("bad frame % x for input % x", out, in)
				}
				n := int(binary.BigEndian.Uint16(out[4:]))
				if n < 2 || len(out) < 6+n {
					t.Fatalf("bad length in % x", out)
				}
				out = out[6+n:]
			}
		}
	})
}

// FuzzS7 feeds arbitrary bytes to the S7 server after a valid connection
// and setup (and once without them): no panic, no hang, and every answer
// is a well-formed TPKT.
func FuzzS7(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0x21, 2, 0xf0, 0x80, 0x32, 7, 0, 0, 0, 0, 0, 8, 0, 8, 0, 1, 0x12, 4, 0x11, 0x44, 1, 0, 0xff, 9, 0, 4, 0, 0x11, 0, 1})
	cr := []byte{3, 0, 0, 0x16, 0x11, 0xe0, 0, 0, 0, 0x14, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 0x0a}
	setup := []byte{3, 0, 0, 0x19, 2, 0xf0, 0x80, 0x32, 1, 0, 0, 0, 0, 0, 8, 0, 0, 0xf0, 0, 0, 1, 0, 1, 1, 0xe0}
	s := build(f, "s7", "site: gate\n")
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, prefix := range [][]byte{nil, append(append([]byte{}, cr...), setup...)} {
			out := serveBytes(s, append(append([]byte{}, prefix...), in...))
			for len(out) > 0 {
				if len(out) < 7 || out[0] != 3 {
					t.Fatalf("bad TPKT % x for input % x", out, in)
				}
				n := int(binary.BigEndian.Uint16(out[2:]))
				if n < 7 || len(out) < n {
					t.Fatalf("bad TPKT length in % x", out)
				}
				out = out[n:]
			}
		}
	})
}
