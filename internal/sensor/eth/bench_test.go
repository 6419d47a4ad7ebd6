package eth

import (
	"context"
	"net"
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// BenchmarkAnswer is the CPU cost of one JSON-RPC call past the socket:
// decoding, dispatch, classification, the reply and the rpc.call event
// (into an in-memory emitter). bench/eth measures the whole path over
// loopback HTTP against a bare net/http baseline (docs/benchmarks-eth.md).
func BenchmarkAnswer(b *testing.B) {
	s, err := newSensor(defaultConfig(), []byte("bench-seed"), fixedNow)
	if err != nil {
		b.Fatal(err)
	}
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	env := &sensor.Env{SensorName: "bench", Emitter: sensortest.NewRecorder()}
	sess := sensor.NewSession(c1, env, "eth", sensor.DefaultLimits())
	x := &exchange{sess: sess, src: s.sources.get(sess.Remote.Addr()), transport: "http"}
	bodies := [][]byte{
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`),
		[]byte(`{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"]}`),
		[]byte(`{"jsonrpc":"2.0","id":4,"method":"personal_unlockAccount","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","123456",0]}`),
		[]byte(`{"jsonrpc":"2.0","id":5,"method":"eth_sendTransaction","params":[{"from":"0x407d73d8a49eeb85d32cf465507dd71d507100c1","to":"0x00000000000000000000000000000000deadbeef","value":"0x3635c9adc5dea00000","gas":"0x5208"}]}`),
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if out, _ := s.answer(ctx, x, bodies[i%len(bodies)]); out == nil {
			b.Fatal("no reply")
		}
		i++
	}
}
