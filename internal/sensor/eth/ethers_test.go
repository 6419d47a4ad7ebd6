package eth_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// ethersDir is where the ethers.js client lives; its node_modules is
// installed from the npm registry on first use (npm install is
// idempotent) and is not committed.
const ethersDir = "testdata/ethers"

func installEthers(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/node"); err != nil {
		t.Skip("node is not installed (scripts/deps: nodejs); setup installs it")
	}
	if _, err := os.Stat(filepath.Join(ethersDir, "node_modules", "ethers", "package.json")); err == nil {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed (scripts/deps: npm); setup installs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = ethersDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install ethers: %v\n%s", err, out)
	}
}

// TestEthersJS drives the sensor with ethers.js v6 under Debian's node:
// chain id, block, accounts, balances, an unlock, a send through the
// node's signer and a locally signed raw transaction.
func TestEthersJS(t *testing.T) {
	installEthers(t)
	in := sensortest.Start(t, sensortest.Options{Factory: "eth", Config: "transport: http\n"}, sensor.DefaultLimits())
	ctx, cancel := context.WithTimeout(context.Background(), sensortest.Wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/node", "client.js", "http://"+in.Addr+"/")
	cmd.Dir = ethersDir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node: %v\n%s%s", err, out, stderr)
	}
	var got struct {
		ChainID     string   `json:"chainId"`
		BlockNumber uint64   `json:"blockNumber"`
		BlockHash   string   `json:"blockHash"`
		Accounts    []string `json:"accounts"`
		Balances    []string `json:"balances"`
		Version     string   `json:"version"`
		Unlock      string   `json:"unlock"`
		Send        string   `json:"send"`
		Raw         string   `json:"raw"`
		From        string   `json:"from"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.ChainID != "1" || got.BlockNumber < 21000000 || len(got.BlockHash) != 66 || len(got.Accounts) != 3 || len(got.Balances) != 3 || !strings.HasPrefix(got.Version, "Geth/") {
		t.Fatalf("ethers saw %+v", got)
	}
	for _, b := range got.Balances {
		if len(b) < 21 { // at least 100 ether in wei
			t.Errorf("balance %s", b)
		}
	}
	if got.Unlock != "could not decrypt key with given password" {
		t.Errorf("unlock: %s", got.Unlock)
	}
	if got.Send != "authentication needed: password or unlock" {
		t.Errorf("send: %s", got.Send)
	}
	if !strings.HasPrefix(got.Raw, "insufficient funds for gas * price + value") {
		t.Errorf("raw send: %s", got.Raw)
	}
	evs := in.Recorder.WaitFor(t, "raw transaction recorded", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "rpc.call", func(e *event.Event) bool { return e.Str("method") == "eth_sendRawTransaction" }) == 1
	})
	cats := map[string]string{}
	for _, e := range evs {
		if e.Kind != "rpc.call" {
			continue
		}
		cats[e.Str("method")] = e.Str("category")
		switch e.Str("method") {
		case "personal_unlockAccount":
			if e.Text("password") != "correct horse battery staple" {
				t.Errorf("password recorded %q", e.Text("password"))
			}
		case "eth_sendTransaction":
			if e.Str("destination") != "0x00000000000000000000000000000000c0ffee00" || e.Str("value") != "12500000000000000000" {
				t.Errorf("send recorded %v", e.Data)
			}
		case "eth_sendRawTransaction":
			if e.Str("from") != got.From || e.Str("destination") != "0x00000000000000000000000000000000c0ffee00" {
				t.Errorf("raw send recorded %v", e.Data)
			}
		}
	}
	for m, c := range map[string]string{"eth_chainId": "information_gathering", "eth_accounts": "balance_check", "eth_getBalance": "balance_check",
		"personal_unlockAccount": "password_brute_force", "eth_sendTransaction": "theft_attempt", "eth_sendRawTransaction": "theft_attempt"} {
		if cats[m] != c {
			t.Errorf("%s: category %q, want %q", m, cats[m], c)
		}
	}
}
