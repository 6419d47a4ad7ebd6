package eth_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestConformance(t *testing.T) {
	for _, transport := range []string{"http", "ws"} {
		t.Run(transport, func(t *testing.T) {
			sensortest.Run(t, sensortest.Options{Factory: "eth", Config: "transport: " + transport + "\n", Exchange: func(t testing.TB, c net.Conn) {
				body := `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`
				fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}})
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{
		"transport: tcp\n", "client_version: Parity\n", "client_version: Geth/vX\n", "chain_id: 0\n", "block_time: 10ms\n",
		"apis: [eth, shh]\n", "peers: -1\n", "max_params: 1\n", "nonsense: 1\n",
		"accounts: [{address: \"0x12\", balance: \"1\"}]\n",
		"accounts: [{address: \"0x00000000000000000000000000000000000000aa\", balance: \"-1\"}]\n",
		"accounts: [{address: \"0x00000000000000000000000000000000000000aa\", balance: \"0.0000000000000000001\"}]\n",
	} {
		f, _ := sensor.Lookup("eth")
		if _, err := f.New(sensor.Env{Seed: []byte("s")}, sensortest.DecodeYAML(cfg)); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}
