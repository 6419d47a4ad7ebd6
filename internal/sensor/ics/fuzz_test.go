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
