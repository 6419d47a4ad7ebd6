package eth

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func fuzzSensor(f *testing.F) (*Sensor, *sensor.Session) {
	cfg := defaultConfig()
	s, err := newSensor(cfg, []byte("fuzz-seed"), fixedNow)
	if err != nil {
		f.Fatal(err)
	}
	c1, c2 := net.Pipe()
	f.Cleanup(func() { c1.Close(); c2.Close() })
	env := &sensor.Env{SensorName: "fuzz", Emitter: sensortest.NewRecorder()}
	return s, sensor.NewSession(c1, env, "eth", sensor.DefaultLimits())
}

// FuzzAnswer feeds arbitrary request bodies (single calls, batches,
// malformed and huge input; seeds in testdata/fuzz/FuzzAnswer) through the
// JSON-RPC decoder and dispatcher: it must never panic, every reply must
// be valid JSON, and a single call's reply carries its id.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x00000000000000000000000000000000000000aa","latest"]}`))
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"method":"personal_unlockAccount","params":["0x00000000000000000000000000000000000000aa","pw",0]},{"jsonrpc":"2.0","method":"eth_chainId"}]`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":`))
	s, sess := fuzzSensor(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, transport := range []string{"http", "ws"} {
			x := &exchange{sess: sess, src: s.sources.get(sess.Remote.Addr()), transport: transport}
			if transport == "ws" {
				x.ws = &wsSubs{node: s.node}
			}
			out, _ := s.answer(context.Background(), x, body)
			if out == nil {
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("%s: reply is not JSON: %q", transport, out)
			}
			var in struct {
				Version string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Method  string          `json:"method"`
			}
			if json.Valid(body) && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) && json.Unmarshal(body, &in) == nil &&
				in.Version == "2.0" && in.Method != "" && len(in.ID) > 0 && in.ID[0] != '{' && in.ID[0] != '[' {
				var r struct {
					ID json.RawMessage `json:"id"`
				}
				if err := json.Unmarshal(out, &r); err != nil || !bytes.Equal(compact(r.ID), compact(in.ID)) {
					t.Fatalf("%s: reply id %s for request id %s", transport, r.ID, in.ID)
				}
			}
		}
	})
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// FuzzHTTP feeds arbitrary bytes to the HTTP side over an in-memory
// connection: it must never panic or hang.
func FuzzHTTP(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nAccept-Encoding: gzip\r\n\r\n2\r\n[]\r\n0\r\n\r\n"))
	s, _ := fuzzSensor(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		server, client := net.Pipe()
		env := &sensor.Env{SensorName: "fuzz", Emitter: sensortest.NewRecorder()}
		l := sensor.DefaultLimits()
		l.IdleTimeout = time.Second
		sess := sensor.NewSession(server, env, "eth", l)
		go func() {
			client.Write(in)
			client.Close()
		}()
		go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(client) }()
		_ = s.HandleConn(context.Background(), sess)
		server.Close()
	})
}
