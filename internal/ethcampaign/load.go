package ethcampaign

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Load reads the rpc.call events since a time through the store's event
// API, oldest first, at most max of them, and summarises them. truncated
// reports that max was reached (the newest calls were left out).
func Load(ctx context.Context, st store.Store, since time.Time, max int) (campaigns []Campaign, read int, truncated bool, err error) {
	var evs []*event.Event
	q := store.EventQuery{Honeypot: "eth", Kind: "rpc.call", Since: since, Ascending: true, Limit: 1000}
	for {
		page, err := st.Events(ctx, q)
		if err != nil {
			return nil, 0, false, fmt.Errorf("ethcampaign: read events: %w", err)
		}
		evs = append(evs, page.Events...)
		if len(evs) >= max {
			evs, truncated = evs[:max], true
			break
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	return Summarize(evs), len(evs), truncated, nil
}

// Wallet is one address attackers wanted Ether or mining rewards sent to,
// across every source: the destination-address feed.
type Wallet struct {
	Address  string    `json:"address"`
	Currency string    `json:"currency"` // "eth"
	Via      []string  `json:"via"`      // methods that named it
	Sources  int       `json:"sources"`  // distinct source addresses
	Count    int       `json:"count"`    // calls that named it
	MaxValue string    `json:"max_value_wei,omitempty"`
	First    time.Time `json:"first_seen"`
	Last     time.Time `json:"last_seen"`
}

// Wallets merges the campaigns' destinations by address, most sources
// first.
func Wallets(cs []Campaign) []Wallet {
	by := map[string]*Wallet{}
	for _, c := range cs {
		for _, d := range c.Destinations {
			w := by[d.Address]
			if w == nil {
				w = &Wallet{Address: d.Address, Currency: "eth", First: d.First, Last: d.Last}
				by[d.Address] = w
			}
			w.Sources++
			w.Count += d.Count
			w.MaxValue = maxDecimal(w.MaxValue, d.Value)
			if d.First.Before(w.First) {
				w.First = d.First
			}
			if d.Last.After(w.Last) {
				w.Last = d.Last
			}
			known := false
			for _, v := range w.Via {
				known = known || v == d.Via
			}
			if !known {
				w.Via = append(w.Via, d.Via)
			}
		}
	}
	out := make([]Wallet, 0, len(by))
	for _, w := range by {
		sort.Strings(w.Via)
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sources != out[j].Sources {
			return out[i].Sources > out[j].Sources
		}
		return out[i].Address < out[j].Address
	})
	return out
}
