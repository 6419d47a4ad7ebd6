package eth_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/eth"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// TestGoEthereumClient drives the sensor with go-ethereum's own client
// over HTTP and WebSocket: it reads the chain and the accounts, tries to
// unlock and to send, and every step is recorded and classified.
func TestGoEthereumClient(t *testing.T) {
	for _, transport := range []string{"http", "ws"} {
		t.Run(transport, func(t *testing.T) {
			in := sensortest.Start(t, sensortest.Options{Factory: "eth", Config: "transport: " + transport + "\n"}, sensor.DefaultLimits())
			ctx := context.Background()
			rc, err := rpc.DialContext(ctx, transport+"://"+in.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			ec := ethclient.NewClient(rc)

			id, err := ec.ChainID(ctx)
			if err != nil || id.Uint64() != 1 {
				t.Fatalf("chain id %v, %v", id, err)
			}
			num, err := ec.BlockNumber(ctx)
			if err != nil || num < 21000000 {
				t.Fatalf("block number %d, %v", num, err)
			}
			hdr, err := ec.HeaderByNumber(ctx, nil)
			if err != nil || hdr.Number.Uint64() < num {
				t.Fatalf("header %v, %v", hdr, err)
			}
			blk, err := ec.BlockByNumber(ctx, big.NewInt(int64(num)))
			if err != nil || blk.NumberU64() != num || blk.ParentHash() == (common.Hash{}) {
				t.Fatalf("block %v, %v", blk, err)
			}
			var version string
			if err := rc.CallContext(ctx, &version, "web3_clientVersion"); err != nil || !strings.HasPrefix(version, "Geth/v1.13.15") {
				t.Fatalf("client version %q, %v", version, err)
			}
			var accounts []common.Address
			if err := rc.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) != 3 {
				t.Fatalf("accounts %v, %v", accounts, err)
			}
			for _, a := range accounts {
				b1, err := ec.BalanceAt(ctx, a, nil)
				if err != nil || b1.Cmp(new(big.Int).Mul(big.NewInt(200), big.NewInt(1e18))) < 0 {
					t.Fatalf("balance of %s = %v, %v", a, b1, err)
				}
				b2, _ := ec.BalanceAt(ctx, a, nil)
				if b1.Cmp(b2) != 0 {
					t.Fatalf("balance changed between calls: %v, %v", b1, b2)
				}
			}
			var ok bool
			err = rc.CallContext(ctx, &ok, "personal_unlockAccount", accounts[0], "hunter2", 300)
			if err == nil || err.Error() != "could not decrypt key with given password" {
				t.Fatalf("unlock: %v", err)
			}
			thief := common.HexToAddress("0x00000000000000000000000000000000deadbeef")
			var hash common.Hash
			err = rc.CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"from": accounts[0], "to": thief, "value": "0xde0b6b3a7640000", "gas": "0x5208"})
			if err == nil || err.Error() != "authentication needed: password or unlock" {
				t.Fatalf("send: %v", err)
			}
			var rpcErr rpc.Error
			if !errors.As(err, &rpcErr) || rpcErr.ErrorCode() != -32000 {
				t.Fatalf("send error code: %v", err)
			}
			key, _ := crypto.GenerateKey()
			tx, _ := types.SignNewTx(key, types.LatestSignerForChainID(big.NewInt(1)), &types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: 0, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e10), Gas: 21000, To: &thief, Value: big.NewInt(5e17)})
			err = ec.SendTransaction(ctx, tx)
			if err == nil || !strings.HasPrefix(err.Error(), "insufficient funds for gas * price + value") {
				t.Fatalf("raw send: %v", err)
			}
			if _, err := ec.EstimateGas(ctx, ethereum.CallMsg{From: accounts[0], To: &thief, Value: big.NewInt(1)}); err != nil {
				t.Fatalf("estimate: %v", err)
			}

			want := map[string]string{
				"eth_chainId": eth.CatInfo, "eth_blockNumber": eth.CatInfo, "eth_getBlockByNumber": eth.CatInfo,
				"web3_clientVersion": eth.CatInfo, "eth_accounts": eth.CatBalance, "eth_getBalance": eth.CatBalance,
				"personal_unlockAccount": eth.CatBrute, "eth_sendTransaction": eth.CatTheft, "eth_sendRawTransaction": eth.CatTheft,
				"eth_estimateGas": eth.CatInfo,
			}
			evs := in.Recorder.WaitFor(t, "every call recorded", sensortest.Wait, func(evs []*event.Event) bool {
				return sensortest.Count(evs, "rpc.call", func(e *event.Event) bool { return e.Str("method") == "eth_estimateGas" }) == 1
			})
			seen := map[string]*event.Event{}
			for _, e := range evs {
				if e.Kind != "rpc.call" {
					continue
				}
				if e.Str("transport") != transport || e.Honeypot != "eth" {
					t.Errorf("event %v", e.Data)
				}
				seen[e.Str("method")] = e
				if c, ok := want[e.Str("method")]; ok && e.Str("category") != c {
					t.Errorf("%s classified %s, want %s", e.Str("method"), e.Str("category"), c)
				}
			}
			for m := range want {
				if seen[m] == nil {
					t.Errorf("%s not recorded", m)
				}
			}
			if e := seen["personal_unlockAccount"]; e.Text("password") != "hunter2" || e.Str("account") != strings.ToLower(accounts[0].Hex()) {
				t.Errorf("unlock recorded %v", e.Data)
			}
			if e := seen["eth_sendTransaction"]; e.Str("destination") != strings.ToLower(thief.Hex()) || e.Str("value") != "1000000000000000000" || e.Int("gas") != 21000 {
				t.Errorf("send recorded %v", e.Data)
			}
			if e := seen["eth_sendRawTransaction"]; e.Str("tx_hash") != tx.Hash().Hex() || e.Str("destination") != strings.ToLower(thief.Hex()) ||
				e.Str("from") != strings.ToLower(crypto.PubkeyToAddress(key.PublicKey).Hex()) || e.Str("value") != "500000000000000000" {
				t.Errorf("raw send recorded %v", e.Data)
			}
		})
	}
}
