package eth_test

import (
	"bufio"

	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/ethcampaign"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// rpcClient posts JSON-RPC bodies from a chosen loopback source address.
type rpcClient struct {
	url string
	hc  *http.Client
}

func newRPCClient(addr, from string) *rpcClient {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: sensortest.Wait}
	return &rpcClient{url: "http://" + addr + "/", hc: &http.Client{Timeout: sensortest.Wait, Transport: &http.Transport{DialContext: d.DialContext}}}
}

type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *rpcClient) post(t *testing.T, body string) rpcReply {
	t.Helper()
	resp, err := c.hc.Post(c.url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r rpcReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("reply to %s: %v", body, err)
	}
	return r
}

func (c *rpcClient) accounts(t *testing.T) []string {
	var accts []string
	if err := json.Unmarshal(c.post(t, `{"jsonrpc":"2.0","id":0,"method":"eth_accounts"}`).Result, &accts); err != nil {
		t.Fatal(err)
	}
	return accts
}

// replay sends every line of a recorded attack (testdata/replay) and
// returns the replies; {acctN} stands for the node's Nth decoy account.
func replay(t *testing.T, c *rpcClient, name string, accts []string) []rpcReply {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "replay", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rpcReply
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for i, a := range accts {
			line = strings.ReplaceAll(line, "{acct"+string(rune('0'+i))+"}", a)
		}
		r := c.post(t, line)
		if r.Error != nil && r.Error.Code == -32601 {
			t.Fatalf("%s: %s", line, r.Error.Message)
		}
		out = append(out, r)
	}
	return out
}

// TestReplayedAttacks replays published attack sequences, each from its
// own source, and checks the categories and the campaign summaries.
func TestReplayedAttacks(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "eth", Config: "transport: http\n"}, sensor.DefaultLimits())
	const thief = "0x7c3a2b8e4f0d9a16b5c8e2f1a0d3b6c9e8f7a6b5"
	accts := newRPCClient(in.Addr, "127.0.0.20").accounts(t)

	sweep := replay(t, newRPCClient(in.Addr, "127.0.0.21"), "balance_sweep.jsonl", accts)
	brute := replay(t, newRPCClient(in.Addr, "127.0.0.22"), "unlock_bruteforce.jsonl", accts)
	mine := replay(t, newRPCClient(in.Addr, "127.0.0.23"), "mining_redirect.jsonl", accts)
	eclipse := replay(t, newRPCClient(in.Addr, "127.0.0.24"), "eclipse.jsonl", accts)

	// The node's answers: Geth's texts, and state the attacker reads back.
	if e := sweep[5].Error; e == nil || e.Message != "authentication needed: password or unlock" {
		t.Errorf("sweep send answered %+v", sweep[5])
	}
	for _, r := range brute[1:16] {
		if r.Error == nil || r.Error.Message != "could not decrypt key with given password" || r.Error.Code != -32000 {
			t.Fatalf("unlock answered %+v", r)
		}
	}
	if string(mine[4].Result) != `"0xea674fdde714fd979de3edf0f56aa9716b898ec8"` {
		t.Errorf("coinbase after miner_setEtherbase = %s", mine[4].Result)
	}
	if string(mine[0].Result) != `"`+accts[0]+`"` {
		t.Errorf("coinbase before = %s, want the first account %s", mine[0].Result, accts[0])
	}
	if string(eclipse[3].Result) != "true" || eclipse[7].Error == nil || !strings.HasPrefix(eclipse[7].Error.Message, "invalid enode: ") {
		t.Errorf("addPeer answered %s, bad enode %+v", eclipse[3].Result, eclipse[7].Error)
	}

	evs := in.Recorder.WaitFor(t, "all calls", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "rpc.call", nil) == 1+len(sweep)+len(brute)+len(mine)+len(eclipse)
	})
	byIP := map[string]ethcampaign.Campaign{}
	for _, c := range ethcampaign.Summarize(evs) {
		byIP[c.Source.String()] = c
	}

	c := byIP["127.0.0.21"]
	if c.Intent != "theft_attempt" || c.Categories["balance_check"] != 4 || c.Categories["theft_attempt"] != 2 || c.Categories["information_gathering"] != 1 {
		t.Errorf("sweep campaign %+v", c)
	}
	if seq := steps(c.Sequence); seq != "eth_accounts eth_getBalance×3 eth_gasPrice eth_sendTransaction×2" {
		t.Errorf("sweep sequence %s", seq)
	}
	if len(c.Destinations) != 1 || c.Destinations[0].Address != thief || c.Destinations[0].Count != 2 || c.Destinations[0].Value != "5000000000000000000" {
		t.Errorf("sweep destinations %+v", c.Destinations)
	}

	c = byIP["127.0.0.22"]
	if c.Intent != "theft_attempt" || c.Categories["password_brute_force"] != 15 || c.PasswordCount != 16 || len(c.Passwords) != 15 {
		t.Errorf("brute force campaign %+v", c)
	}
	if c.Passwords[0] != "" || c.Passwords[1] != "123456" || c.Passwords[14] != "letmein" {
		t.Errorf("passwords in order %q", c.Passwords)
	}
	if seq := steps(c.Sequence); seq != "personal_listAccounts personal_unlockAccount×15 personal_sendTransaction" {
		t.Errorf("brute force sequence %s", seq)
	}
	if len(c.Destinations) != 1 || c.Destinations[0].Address != thief || c.Destinations[0].Via != "personal_sendTransaction" {
		t.Errorf("brute force destinations %+v", c.Destinations)
	}

	c = byIP["127.0.0.23"]
	if c.Intent != "mining" || c.Categories["mining"] != 6 || len(c.Destinations) != 1 || c.Destinations[0].Via != "miner_setEtherbase" ||
		c.Destinations[0].Address != "0xea674fdde714fd979de3edf0f56aa9716b898ec8" {
		t.Errorf("mining campaign %+v", c)
	}

	c = byIP["127.0.0.24"]
	if c.Intent != "eclipse" || c.Categories["eclipse"] != 5 || c.Categories["information_gathering"] != 3 || len(c.Peers) != 4 {
		t.Errorf("eclipse campaign %+v", c)
	}
	if p := c.Peers[0]; p.IP != "192.0.2.10" || p.Count != 2 || c.Peers[1].IP != "198.51.100.20" || c.Peers[3].IP != "" {
		t.Errorf("eclipse peers %+v", c.Peers)
	}
}

func steps(s []ethcampaign.Step) string {
	var parts []string
	for _, st := range s {
		p := st.Method
		if st.Times > 1 {
			p += "×" + itoa(st.Times)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
