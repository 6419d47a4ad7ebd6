package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() { registerDeriver(newPortalDeriver) }

// portalDeriver keeps the dashboard's per-day counters (portal_counts) up to
// date from newly stored events, so the dashboard never scans events.
type portalDeriver struct {
	n    map[[3]string]int64
	seen map[string]bool // samples counted as new in this batch
}

func newPortalDeriver() tableDeriver {
	return &portalDeriver{n: map[[3]string]int64{}, seen: map[string]bool{}}
}

func (p *portalDeriver) add(dim, day, key string) { p.n[[3]string{dim, day, key}]++ }

func (p *portalDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	day := e.Time.UTC().Format(time.DateOnly)
	store.PortalCounts(e, func(dim, key string) { p.add(dim, day, key) })
	if e.Kind != "sample.captured" {
		return nil
	}
	// The core deriver has filed the sample already; it is new when its
	// first sighting is this event.
	sha := e.Str("sha256")
	if len(sha) != 64 || p.seen[sha] {
		return nil
	}
	var first int64
	if err := tx.QueryRowContext(ctx, `SELECT first_seen FROM samples WHERE sha256 = ?`, sha).Scan(&first); err != nil {
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	}
	if first == e.Time.UnixNano() {
		p.seen[sha] = true
		p.add("samples", day, "")
	}
	return nil
}

func (p *portalDeriver) Flush(ctx context.Context, tx *sql.Tx) error {
	if len(p.n) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO portal_counts (dim, day, key, n) VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return err
	}
	defer st.Close()
	for k, n := range p.n {
		if _, err := st.ExecContext(ctx, k[0], k[1], k[2], n); err != nil {
			return err
		}
	}
	clear(p.n)
	return nil
}
