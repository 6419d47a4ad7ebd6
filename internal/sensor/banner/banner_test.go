package banner_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/banner"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "banner", Config: "read_timeout: 5s\n", Exchange: func(t testing.TB, c net.Conn) {
		c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	}})
}

func TestRecordsFirstBytes(t *testing.T) {
	tests := []struct {
		name, send, protocol string
	}{
		{"http", "GET /shell?cd+/tmp HTTP/1.1\r\nHost: x\r\n\r\n", "http"},
		{"ssh", "SSH-2.0-Go\r\n", "ssh"},
		{"binary", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "tls"},
		{"invalid utf8", "\xfe\xff<script>\x00", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := sensortest.Start(t, sensortest.Options{Factory: "banner", Config: "banner: \"220 ready\\r\\n\"\n"}, sensor.DefaultLimits())
			c := in.Dial(t, "")
			buf := make([]byte, 32)
			n, _ := c.Read(buf)
			if string(buf[:n]) != "220 ready\r\n" {
				t.Errorf("banner = %q", buf[:n])
			}
			c.Write([]byte(tc.send))
			evs := in.Recorder.WaitFor(t, "tcp.payload", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "tcp.payload", nil) == 1 })
			c.Close()
			var p *event.Event
			for _, e := range evs {
				if e.Kind == "tcp.payload" {
					p = e
				}
			}
			if p.Text("payload") != tc.send || p.Str("protocol") != tc.protocol {
				t.Fatalf("payload %q protocol %q, want %q %q", p.Text("payload"), p.Str("protocol"), tc.send, tc.protocol)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{"read_bytes: 0\n", "read_timeout: -1s\n", "nonsense: 1\n", "read_bytes: many\n"} {
		if _, err := banner.New(sensor.Env{}, sensortest.DecodeYAML(cfg)); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}

func FuzzGuess(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Add([]byte("\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, p []byte) {
		_ = banner.Guess(p)
	})
}

// FuzzHandle feeds arbitrary client bytes through the sensor's handler over
// an in-memory connection: it must never panic or hang, and what it records
// must be exactly the prefix the client sent.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{"GET / HTTP/1.1\r\n\r\n", "\xff\xfb\x01\xff\xfd\x18", "SSH-2.0-libssh\r\n", "", "\x00\xff\xfe<script>"} {
		f.Add([]byte(seed))
	}
	s, err := banner.New(sensor.Env{}, sensortest.DecodeYAML("read_bytes: 64\nread_timeout: 200ms\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec := sensortest.NewRecorder()
		env := &sensor.Env{SensorName: "fuzz", Emitter: rec}
		server, client := net.Pipe()
		l := sensor.DefaultLimits()
		l.IdleTimeout = time.Second
		sess := sensor.NewSession(server, env, "banner", l)
		go func() {
			client.Write(in)
			client.Close()
		}()
		_ = s.(sensor.StreamSensor).HandleConn(context.Background(), sess)
		server.Close()
		for _, e := range rec.Kind("tcp.payload") {
			got := e.Text("payload")
			if len(got) > 64 || !strings.HasPrefix(string(in), got) {
				t.Fatalf("recorded %q for input %q", got, in)
			}
		}
	})
}
