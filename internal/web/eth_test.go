package web

import (
	"context"
	"encoding/csv"
	"encoding/json"

	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/ethcampaign"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

const ethThief = "0x7c3a2b8e4f0d9a16b5c8e2f1a0d3b6c9e8f7a6b5"

// seedEth stores what the eth sensor and the collector make of an unlock
// brute force followed by a theft, and of an eclipse attempt, with
// hostile strings where attackers choose them.
func seedEth(t *testing.T, db *sqlite.DB) {
	now := time.Now().UTC().Add(-time.Hour)
	call := func(src, method, cat string, at time.Duration) *event.Event {
		e := mkEvent("eth", "rpc.call", "s-"+src, src, now.Add(at))
		e.DstPort = 8545
		e.SetText("method", method)
		e.Set("category", cat).Set("transport", "http")
		return e
	}
	var evs []*event.Event
	evs = append(evs, call("127.0.0.31", "eth_accounts", "balance_check", 0))
	for i, pw := range []string{"123456", xssPayloads[0], "123456"} {
		e := call("127.0.0.31", "personal_unlockAccount", "password_brute_force", time.Duration(i+1)*time.Second)
		e.SetText("password", pw)
		evs = append(evs, e)
	}
	send := call("127.0.0.31", "eth_sendTransaction", "theft_attempt", 10*time.Second)
	send.Set("destination", ethThief).Set("to", ethThief).Set("value", "1000000000000000000")
	send.Set("src_country", "NL").Set("src_asn", 64501).Set("src_as_org", xssPayloads[1])
	evs = append(evs, send)
	peer := call("127.0.0.32", "admin_addPeer", "eclipse", 20*time.Second)
	peer.SetText("enode", "enode://"+strings.Repeat("ab", 64)+"@192.0.2.10:30303"+xssPayloads[3])
	peer.Set("enode_ip", "192.0.2.10").Set("enode_country", "ZZ").Set("enode_asn", 64502)
	evs = append(evs, peer)
	if _, err := db.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func TestEthCampaigns(t *testing.T) {
	f := newFixture(t)
	seedEth(t, f.db)

	resp, body := get(t, f.ts.URL, "/api/v1/eth/campaigns", nil)
	var out struct {
		Campaigns []ethcampaign.Campaign `json:"campaigns"`
		Read      int                    `json:"events_read"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 || out.Read != 6 || len(out.Campaigns) != 2 {
		t.Fatalf("%d %v %s", resp.StatusCode, err, body)
	}
	eclipse, theft := out.Campaigns[0], out.Campaigns[1] // newest first
	if theft.Source.String() != "127.0.0.31" || theft.Intent != "theft_attempt" || theft.PasswordCount != 3 || len(theft.Passwords) != 2 ||
		theft.Passwords[1] != xssPayloads[0] || len(theft.Destinations) != 1 || theft.Destinations[0].Address != ethThief {
		t.Errorf("theft campaign %+v", theft)
	}
	if eclipse.Intent != "eclipse" || len(eclipse.Peers) != 1 || eclipse.Peers[0].IP != "192.0.2.10" || eclipse.Peers[0].Country != "ZZ" || eclipse.Peers[0].ASN != 64502 {
		t.Errorf("eclipse campaign %+v", eclipse)
	}
	_, body = get(t, f.ts.URL, "/api/v1/eth/campaigns?src=127.0.0.32", nil)
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Campaigns) != 1 {
		t.Errorf("src filter: %s", body)
	}
	for _, bad := range []string{"?since=yesterday", "?src=nope", "?color=red"} {
		if resp, _ := get(t, f.ts.URL, "/api/v1/eth/campaigns"+bad, nil); resp.StatusCode != 400 {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}

	resp, page := get(t, f.ts.URL, "/eth", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, ethThief) || !strings.Contains(page, "192.0.2.10") || !strings.Contains(page, "personal_unlockAccount") {
		t.Fatalf("page %d: %.500s", resp.StatusCode, page)
	}
	for _, p := range xssPayloads {
		if strings.Contains(page, p) {
			t.Errorf("page carries attacker markup unescaped: %s", p)
		}
	}

	resp, body = get(t, f.ts.URL, "/feeds/eth-wallets.csv", nil)
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if resp.StatusCode != 200 || err != nil || len(recs) != 2 || recs[1][2] != ethThief || recs[1][4] != "eth_sendTransaction" {
		t.Errorf("wallet csv %d %v %v", resp.StatusCode, err, recs)
	}
	_, body = get(t, f.ts.URL, "/feeds/eth-wallets.json", nil)
	var wj struct{ Wallets []ethcampaign.Wallet }
	if err := json.Unmarshal([]byte(body), &wj); err != nil || len(wj.Wallets) != 1 || wj.Wallets[0].Sources != 1 {
		t.Errorf("wallet json %s", body)
	}
	if _, body := get(t, f.ts.URL, "/feeds/stix.json", nil); !strings.Contains(body, "x-cryptocurrency-wallet:address = '"+ethThief+"'") {
		t.Error("wallet missing from the STIX feed")
	}
	_, body = get(t, f.ts.URL, "/feeds/misp/manifest.json", nil)
	var manifest map[string]any
	json.Unmarshal([]byte(body), &manifest)
	found := false
	for id := range manifest {
		_, ev := get(t, f.ts.URL, "/feeds/misp/"+id+".json", nil)
		found = found || strings.Contains(ev, `"value":"`+ethThief+`"`)
	}
	if !found {
		t.Error("wallet missing from the MISP feed")
	}

}
