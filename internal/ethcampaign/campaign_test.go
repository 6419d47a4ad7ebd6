package ethcampaign

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func call(src, method, cat string, at time.Time) *event.Event {
	e := event.New("eth", "rpc.call")
	e.Time, e.SrcIP = at, netip.MustParseAddr(src)
	e.SetText("method", method)
	e.Set("category", cat)
	return e
}

func TestSummarizeAndWallets(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var evs []*event.Event
	// Out of order on purpose: Summarize sorts by time.
	s1 := call("127.0.0.1", "eth_sendTransaction", "theft_attempt", t0.Add(time.Minute))
	s1.Set("destination", "0xaa").Set("value", "900")
	s2 := call("127.0.0.2", "eth_sendTransaction", "theft_attempt", t0.Add(2*time.Minute))
	s2.Set("destination", "0xaa").Set("value", "10000")
	evs = append(evs, s1, call("127.0.0.1", "eth_accounts", "balance_check", t0), s2, call("127.0.0.1", "bogus", "made-up", t0.Add(3*time.Minute)))
	for i := range MaxPasswords + 50 {
		e := call("127.0.0.3", "personal_unlockAccount", "password_brute_force", t0.Add(time.Duration(i)*time.Second))
		e.SetText("password", "pw"+strconv.Itoa(i))
		evs = append(evs, e)
	}
	evs = append(evs, event.New("eth", "session.connect"))

	cs := Summarize(evs)
	if len(cs) != 3 {
		t.Fatalf("%d campaigns", len(cs))
	}
	by := map[string]Campaign{}
	for _, c := range cs {
		by[c.Source.String()] = c
	}
	c := by["127.0.0.1"]
	if c.Intent != "theft_attempt" || c.Calls != 3 || c.Categories["other"] != 1 || c.Methods[0].Method != "eth_accounts" || c.Sequence[1].Method != "eth_sendTransaction" {
		t.Errorf("campaign %+v", c)
	}
	b := by["127.0.0.3"]
	if b.PasswordCount != MaxPasswords+50 || len(b.Passwords) != MaxPasswords || len(b.Sequence) != 1 || b.Sequence[0].Times != MaxPasswords+50 {
		t.Errorf("brute force: %d attempts, %d kept, sequence %+v", b.PasswordCount, len(b.Passwords), b.Sequence)
	}
	ws := Wallets(cs)
	if len(ws) != 1 || ws[0].Sources != 2 || ws[0].Count != 2 || ws[0].MaxValue != "10000" || !ws[0].First.Equal(t0.Add(time.Minute)) || !ws[0].Last.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("wallets %+v", ws)
	}
}

func TestMaxDecimal(t *testing.T) {
	for _, tc := range [][3]string{{"", "5", "5"}, {"5", "", "5"}, {"900", "10000", "10000"}, {"99", "98", "99"}} {
		if got := maxDecimal(tc[0], tc[1]); got != tc[2] {
			t.Errorf("maxDecimal(%s, %s) = %s", tc[0], tc[1], got)
		}
	}
}
