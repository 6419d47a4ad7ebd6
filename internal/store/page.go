package store

import (
	"sort"

	"github.com/kansoku/kansoku/internal/event"
)

// The page sizes every driver applies: a caller's limit is used when it is
// in range and the default replaces it otherwise (zero, negative or too
// large), so that no request reads a whole table.

// PageLimit bounds the limit of an event page, a list of samples, URLs,
// C2s or attacks, sessions by address and the audit log: 1 to 1000, 100
// by default.
func PageLimit(n int) int { return bounded(n, 100, 1000) }

// HostLimit bounds a page of hosts: 1 to 10000, 1000 by default (the
// portal's map wants many at once).
func HostLimit(n int) int { return bounded(n, 1000, 10000) }

// AddressEventLimit bounds the infection check's events about one address:
// 1 to 1000, 200 by default.
func AddressEventLimit(n int) int { return bounded(n, 200, 1000) }

// DashboardTop bounds the length of the dashboard's top lists: 1 to 100,
// 10 by default.
func DashboardTop(n int) int { return bounded(n, 10, 100) }

func bounded(n, def, most int) int {
	if n <= 0 || n > most {
		return def
	}
	return n
}

// ListBounds is where a ListQuery starts (the sequence number after which
// rows are listed; 0 for the first page) and how many rows it lists.
func ListBounds(q ListQuery) (after int64, limit int, err error) {
	if q.After != "" {
		if after, err = DecodeCursor(q.After); err != nil {
			return 0, 0, err
		}
	}
	return after, PageLimit(q.Limit), nil
}

// NewestFirst sorts events that came from several queries newest first,
// keeping the order of those with the same time, and keeps limit of them.
func NewestFirst(evs []*event.Event, limit int) []*event.Event {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.After(evs[j].Time) })
	if len(evs) > limit {
		evs = evs[:limit]
	}
	return evs
}

// EventConditions calls add for each condition q sets, in a fixed order:
// the events column, the comparison (=, >=, < or >) and the value as q
// holds it (a time.Time, string or netip.Addr; an int64 for seq, where
// the After cursor continues in the page's direction). The driver writes
// each in its dialect, with its placeholders and value types.
func EventConditions(q EventQuery, add func(col, op string, v any)) error {
	if !q.Since.IsZero() {
		add("time", ">=", q.Since)
	}
	if !q.Until.IsZero() {
		add("time", "<", q.Until)
	}
	for _, f := range []struct{ col, v string }{{"sensor", q.Sensor}, {"honeypot", q.Honeypot}, {"kind", q.Kind}} {
		if f.v != "" {
			add(f.col, "=", f.v)
		}
	}
	if q.SrcIP.IsValid() {
		add("src_ip", "=", q.SrcIP)
	}
	if q.Session != "" {
		add("session", "=", q.Session)
	}
	if q.After != "" {
		seq, err := DecodeCursor(q.After)
		if err != nil {
			return err
		}
		op := "<"
		if q.Ascending {
			op = ">"
		}
		add("seq", op, seq)
	}
	return nil
}
