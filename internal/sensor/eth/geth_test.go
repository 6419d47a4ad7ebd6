package eth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// The differential test: go-ethereum's own JSON-RPC server, with services
// answering what the decoy node answers, receives the same raw HTTP
// requests as the sensor; the response bytes must be equal (Date aside).

type gethWeb3 struct{ n *node }

func (g gethWeb3) ClientVersion() string { return g.n.cfg.ClientVersion }

type gethEth struct{ n *node }

func (g gethEth) ChainId() hexutil.Uint64 { return hexutil.Uint64(g.n.cfg.ChainID) }
func (g gethEth) BlockNumber() hexutil.Uint64 {
	return hexutil.Uint64(g.n.head())
}
func (g gethEth) GetBalance(a common.Address, _ rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	return (*hexutil.Big)(g.n.balance(a)), nil
}
func (g gethEth) Accounts() []common.Address { return g.n.addresses() }
func (g gethEth) GetBlockByNumber(n rpc.BlockNumber, _ bool) (map[string]any, error) {
	num, ok := g.n.resolve(blockNumber(n))
	if !ok {
		return nil, nil
	}
	return g.n.block(num), nil
}
func (g gethEth) SendTransaction(args TransactionArgs) (common.Hash, error) {
	return common.Hash{}, errors.New(errLocked.Message)
}

type gethPersonal struct{ n *node }

func (g gethPersonal) UnlockAccount(a common.Address, pw string, d *uint64) (bool, error) {
	if g.n.byAddr[a] == nil {
		return false, errors.New(errNoKey.Message)
	}
	return false, errors.New(errDecrypt.Message)
}

var fixedNow = func() time.Time { return time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC) }

func startPair(t *testing.T, cfgYAML string) (ours, geth string, n *node) {
	t.Helper()
	cfg := defaultConfig()
	if err := sensortest.DecodeYAML(cfgYAML)(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	s, err := newSensor(cfg, []byte("differential-seed"), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := sensor.Lookup("eth")
	rec := sensortest.NewRecorder()
	env := sensor.Env{Name: "eth", SensorName: "test", Emitter: rec, Logger: slog.New(slog.DiscardHandler), Seed: []byte("differential-seed")}
	in := sensortest.StartSensor(t, f, s, env, rec, sensor.DefaultLimits())

	srv := rpc.NewServer()
	srv.SetBatchLimits(batchRequestLimit, 25*1000*1000) // Geth's node defaults
	for ns, svc := range map[string]any{"web3": gethWeb3{s.node}, "eth": gethEth{s.node}, "personal": gethPersonal{s.node}} {
		if err := srv.RegisterName(ns, svc); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Stop)
	return in.Addr, strings.TrimPrefix(ts.URL, "http://"), s.node
}

// roundTrip sends raw bytes and returns everything the server sends back
// before closing (requests carry Connection: close).
func roundTrip(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, sensortest.Wait)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(sensortest.Wait))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(bufio.NewReader(c))
	return string(b)
}

var dateHeader = regexp.MustCompile(`\r\nDate: [^\r]+\r\n`)

func post(body string, extra ...string) string {
	h := strings.Join(extra, "")
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", h, len(body), body)
}

func TestGethByteCompatibility(t *testing.T) {
	ours, geth, n := startPair(t, "cors_domains: []\n")
	acct := n.accounts[0].addr.Hex()
	big := "[" + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},`, 1000) + `{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}]`
	cases := map[string]string{
		"client version":     post(`{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]}`),
		"chain id":           post(`{"jsonrpc":"2.0","id":"a","method":"eth_chainId"}`),
		"accounts":           post(`{"jsonrpc":"2.0","id":7,"method":"eth_accounts"}`),
		"balance":            post(`{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["` + acct + `","latest"]}`),
		"block":              post(`{"jsonrpc":"2.0","id":3,"method":"eth_getBlockByNumber","params":["latest",false]}`),
		"future block":       post(`{"jsonrpc":"2.0","id":3,"method":"eth_getBlockByNumber","params":["0xfffffffff",false]}`),
		"unknown method":     post(`{"jsonrpc":"2.0","id":1,"method":"foo_bar","params":[]}`),
		"unknown in ns":      post(`{"jsonrpc":"2.0","id":1,"method":"eth_fooBar"}`),
		"malformed":          post(`{"jsonrpc":"2.0",`),
		"not json":           post(`GET / HTTP/1.1`),
		"empty batch":        post(`[]`),
		"batch":              post(`[{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion"},1,{"jsonrpc":"2.0","method":"eth_chainId"},{"id":2,"method":"x"},{"jsonrpc":"2.0","id":3,"result":1},null,{"jsonrpc":"2.0","id":[1],"method":"eth_chainId"}]`),
		"batch too large":    post(big),
		"notifications only": post(`[{"jsonrpc":"2.0","method":"eth_chainId"}]`),
		"notification":       post(`{"jsonrpc":"2.0","method":"eth_chainId"}`),
		"no version":         post(`{"id":5,"method":"eth_chainId"}`),
		"number":             post(`5`),
		"null":               post(`null`),
		"string":             post(`"eth_chainId"`),
		"empty body":         post(``),
		"whitespace body":    post(" \n"),
		"bad address":        post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12","latest"]}`),
		"missing arg":        post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + acct + `"]}`),
		"too many args":      post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + acct + `","latest",1]}`),
		"non-array args":     post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":{"a":1}}`),
		"null required":      post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[null,"latest"]}`),
		"bad block":          post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + acct + `","yesterday"]}`),
		"bad block hash":     post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + acct + `",{"blockHash":"0x1"}]}`),
		"block both":         post(`{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["` + acct + `",{"blockHash":"0x` + strings.Repeat("0", 64) + `","blockNumber":"0x1"}]}`),
		"unlock":             post(`{"jsonrpc":"2.0","id":9,"method":"personal_unlockAccount","params":["` + acct + `","letmein",300]}`),
		"unlock unknown":     post(`{"jsonrpc":"2.0","id":9,"method":"personal_unlockAccount","params":["0x00000000000000000000000000000000000000aa","x"]}`),
		"unlock bad dur":     post(`{"jsonrpc":"2.0","id":9,"method":"personal_unlockAccount","params":["` + acct + `","x","300"]}`),
		"send":               post(`{"jsonrpc":"2.0","id":4,"method":"eth_sendTransaction","params":[{"from":"` + acct + `","to":"0x00000000000000000000000000000000000000aa","value":"0x1"}]}`),
		"send bad value":     post(`{"jsonrpc":"2.0","id":4,"method":"eth_sendTransaction","params":[{"from":"` + acct + `","value":"12"}]}`),
		"send bad type":      post(`{"jsonrpc":"2.0","id":4,"method":"eth_sendTransaction","params":[7]}`),
		"subscribe http":     post(`{"jsonrpc":"2.0","id":4,"method":"eth_subscribe","params":["newHeads"]}`),
		"long method":        post(`{"jsonrpc":"2.0","id":4,"method":"` + strings.Repeat("a", 2049) + `"}`),
		"escaped key":        post(`{"jsonrpc":"2.0","id":1,"\u006dethod":"eth_chainId"}`),
		"upper key":          post(`{"jsonrpc":"2.0","id":1,"METHOD":"eth_chainId"}`),
		"wrong method type":  post(`{"jsonrpc":"2.0","id":1,"method":5}`),
		"id object":          post(`{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}`),
		"id null":            post(`{"jsonrpc":"2.0","id":null,"method":"eth_chainId"}`),
		"html in method":     post(`{"jsonrpc":"2.0","id":1,"method":"<script>&"}`),
		"json-rpc type":      strings.Replace(post(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`), "application/json", "application/json-rpc; charset=utf-8", 1),
		"text plain":         strings.Replace(post(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`), "application/json", "text/plain", 1),
		"put":                strings.Replace(post(`{}`), "POST", "PUT", 1),
		"delete":             strings.Replace(post(`{}`), "POST", "DELETE", 1),
		"health check":       "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		"get with query":     "GET /?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
		"too large":          "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 6000000\r\nConnection: close\r\n\r\n",
		"options":            "OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"http/1.0":           "POST / HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n" + `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`,
		"garbage":            "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
		"no host":            "POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			want := dateHeader.ReplaceAllString(roundTrip(t, geth, raw), "\r\nDate: X\r\n")
			got := dateHeader.ReplaceAllString(roundTrip(t, ours, raw), "\r\nDate: X\r\n")
			if got != want {
				t.Errorf("request %.200q\n got %.600q\nwant %.600q", raw, got, want)
			}
		})
	}
}
