package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Dashboard implements store.PortalStore from the portal_counts table.
func (db *DB) Dashboard(ctx context.Context, since time.Time, top int) (*store.Dashboard, error) {
	return store.ReadDashboard(ctx, since, time.Now(), top, store.DashboardSource{
		PerDay: db.perDay, Top: db.topKeys, NewURLs: db.newestURLs, NewC2s: db.newestC2s})
}

func (db *DB) newestURLs(ctx context.Context, n int) ([]store.URL, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+urlCols+` FROM urls WHERE review = 'published' ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("store: newest urls: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.URL, error) { return scanURL(r) })
	if err != nil {
		return nil, fmt.Errorf("store: newest urls: %w", err)
	}
	return out, nil
}

func (db *DB) newestC2s(ctx context.Context, n int) ([]store.C2, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+c2Cols+` FROM c2s WHERE review = 'published' ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("store: newest c2s: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanC2)
	if err != nil {
		return nil, fmt.Errorf("store: newest c2s: %w", err)
	}
	return out, nil
}

func (db *DB) perDay(ctx context.Context, dim, first string, distinct bool) ([]store.Count, error) {
	if distinct {
		return db.counts(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), COUNT(*) FROM portal_counts WHERE dim = $1 AND day >= $2::date GROUP BY day`, dim, first)
	}
	return db.counts(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), n FROM portal_counts WHERE dim = $1 AND day >= $2::date AND key = ''::bytea`, dim, first)
}

// topKeys reads keys stored as bytea (credentials stay byte-exact).
func (db *DB) topKeys(ctx context.Context, dim, first string, n int) ([]store.Count, error) {
	rows, err := db.pool.Query(ctx, `SELECT key, SUM(n)::bigint FROM portal_counts WHERE dim = $1 AND day >= $2::date GROUP BY key ORDER BY 2 DESC, 1 LIMIT $3`, dim, first, n)
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

// The infection check's two queries: events from an address over
// events_src_ip, scanner results about it over the partial events_scan_dst.
const (
	addressEventsSQL = `SELECT ` + eventCols + ` FROM events WHERE src_ip = $1::inet AND time >= $2 ORDER BY time DESC LIMIT $3`
	addressScansSQL  = `SELECT ` + eventCols + ` FROM events WHERE dst_ip = $1::inet AND honeypot = 'scan' AND time >= $2 ORDER BY time DESC LIMIT $3`
)

// AddressEvents implements store.PortalStore, newest first.
func (db *DB) AddressEvents(ctx context.Context, ip netip.Addr, since time.Time, limit int) ([]*event.Event, error) {
	limit = store.AddressEventLimit(limit)
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
	return store.NewestFirst(out, limit), nil
}

// SessionsByIP implements store.PortalLookup, newest first.
func (db *DB) SessionsByIP(ctx context.Context, ip netip.Addr, limit int) ([]store.Session, error) {
	limit = store.PageLimit(limit)
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
