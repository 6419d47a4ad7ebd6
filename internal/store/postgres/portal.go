package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Dashboard implements store.PortalStore from the portal_counts table.
func (db *DB) Dashboard(ctx context.Context, since time.Time, top int) (*store.Dashboard, error) {
	since = since.UTC().Truncate(24 * time.Hour)
	if top <= 0 || top > 100 {
		top = 10
	}
	d := &store.Dashboard{}
	idx := map[string]int{}
	for t := since; !t.After(time.Now().UTC()) && len(d.Days) < 400; t = t.AddDate(0, 0, 1) {
		idx[t.Format(time.DateOnly)] = len(d.Days)
		d.Days = append(d.Days, t.Format(time.DateOnly))
	}
	day0 := since.Format(time.DateOnly)
	// series reads one per-day figure: the counter with an empty key, or
	// (distinct) the number of keys counted that day.
	series := func(dim string, distinct bool) ([]int64, error) {
		q := `SELECT to_char(day, 'YYYY-MM-DD'), n FROM portal_counts WHERE dim = $1 AND day >= $2::date AND key = ''::bytea`
		if distinct {
			q = `SELECT to_char(day, 'YYYY-MM-DD'), COUNT(*) FROM portal_counts WHERE dim = $1 AND day >= $2::date GROUP BY day`
		}
		cs, err := db.counts(ctx, q, dim, day0)
		if err != nil {
			return nil, err
		}
		out := make([]int64, len(d.Days))
		for _, c := range cs {
			if i, ok := idx[c.Key]; ok {
				out[i] = c.N
			}
		}
		return out, nil
	}
	topOf := func(dim string) ([]store.Count, error) {
		rows, err := db.pool.Query(ctx, `SELECT key, SUM(n)::bigint FROM portal_counts WHERE dim = $1 AND day >= $2::date GROUP BY key ORDER BY 2 DESC, 1 LIMIT $3`, dim, day0, top)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Count, error) {
			var key []byte
			var c store.Count
			err := r.Scan(&key, &c.N)
			c.Key = string(key)
			return c, err
		})
	}
	var err error
	for _, s := range []struct {
		dim      string
		distinct bool
		dst      *[]int64
	}{{"events", false, &d.EventsPerDay}, {"attacks", false, &d.AttacksPerDay}, {"login", false, &d.LoginsPerDay},
		{"samples", false, &d.SamplesPerDay}, {"family", true, &d.FamiliesPerDay}} {
		if *s.dst, err = series(s.dim, s.distinct); err != nil {
			return nil, fmt.Errorf("store: dashboard %s: %w", s.dim, err)
		}
	}
	for _, s := range []struct {
		dim string
		dst *[]store.Count
	}{{"port", &d.TopPorts}, {"honeypot", &d.TopHoneypots}, {"cred", &d.TopCreds}, {"country", &d.TopCountries},
		{"asn", &d.TopASNs}, {"family", &d.Families}, {"attack_proto", &d.AttackProtos}, {"attack_country", &d.AttackVictims}} {
		if *s.dst, err = topOf(s.dim); err != nil {
			return nil, fmt.Errorf("store: dashboard %s: %w", s.dim, err)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+urlCols+` FROM urls ORDER BY seq DESC LIMIT $1`, top)
	if err != nil {
		return nil, fmt.Errorf("store: newest urls: %w", err)
	}
	if d.NewURLs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.URL, error) { return scanURL(r) }); err != nil {
		return nil, fmt.Errorf("store: newest urls: %w", err)
	}
	if rows, err = db.pool.Query(ctx, `SELECT `+c2Cols+` FROM c2s ORDER BY seq DESC LIMIT $1`, top); err != nil {
		return nil, fmt.Errorf("store: newest c2s: %w", err)
	}
	if d.NewC2s, err = pgx.CollectRows(rows, scanC2); err != nil {
		return nil, fmt.Errorf("store: newest c2s: %w", err)
	}
	return d, nil
}

// The infection check's two queries: events from an address over
// events_src_ip, scanner results about it over the partial events_scan_dst.
const (
	addressEventsSQL = `SELECT ` + eventCols + ` FROM events WHERE src_ip = $1::inet AND time >= $2 ORDER BY time DESC LIMIT $3`
	addressScansSQL  = `SELECT ` + eventCols + ` FROM events WHERE dst_ip = $1::inet AND honeypot = 'scan' AND time >= $2 ORDER BY time DESC LIMIT $3`
)

// AddressEvents implements store.PortalStore, newest first.
func (db *DB) AddressEvents(ctx context.Context, ip netip.Addr, since time.Time, limit int) ([]*event.Event, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []*event.Event
	for _, q := range []string{addressEventsSQL, addressScansSQL} {
		rows, err := db.pool.Query(ctx, q, addr(ip), since, limit)
		if err != nil {
			return nil, fmt.Errorf("store: address events: %w", err)
		}
		evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*event.Event, error) { return scanEvent(r) })
		if err != nil {
			return nil, fmt.Errorf("store: address events: %w", err)
		}
		out = append(out, evs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SessionsByIP implements store.PortalLookup, newest first.
func (db *DB) SessionsByIP(ctx context.Context, ip netip.Addr, limit int) ([]store.Session, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE src_ip = $1::inet ORDER BY start DESC LIMIT $2`, addr(ip), limit)
	if err != nil {
		return nil, fmt.Errorf("store: sessions by ip: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Session, error) { return scanSession(r) })
	if err != nil {
		return nil, fmt.Errorf("store: sessions by ip: %w", err)
	}
	if out == nil {
		out = []store.Session{}
	}
	return out, nil
}
