package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() { registerDeriver(func() tableDeriver { return attackDeriver{} }) }

// attackDeriver files amp.attack.* events into portal_attacks.
type attackDeriver struct{}

func (attackDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	switch e.Kind {
	case "amp.attack.start", "amp.attack.update", "amp.attack.end":
	default:
		return nil
	}
	id := e.Str("attack_id")
	if id == "" || len(id) > 128 || !e.SrcIP.IsValid() {
		return nil
	}
	start := e.Time
	if t, err := time.Parse(time.RFC3339Nano, e.Str("start")); err == nil {
		start = t
	}
	ended := 0
	if e.Kind == "amp.attack.end" {
		ended = 1
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO portal_attacks (id, victim, protocol, port, start, last, ended, packets, bytes, peak_pps, country, sensor)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET start = min(start, excluded.start), last = max(last, excluded.last),
		ended = max(ended, excluded.ended), packets = max(packets, excluded.packets), bytes = max(bytes, excluded.bytes), peak_pps = max(peak_pps, excluded.peak_pps)`,
		id, e.SrcIP.String(), clip(e.Str("protocol")), e.Int("port"), start.UnixNano(), e.Time.UnixNano(), ended, e.Int("packets"),
		e.Int("reply_bytes"), floatOf(e.Data["peak_pps"]), clip(e.Str("src_country")), e.Sensor)
	return err
}

func (attackDeriver) Flush(context.Context, *sql.Tx) error { return nil }

const attackCols = `id, victim, protocol, port, start, last, ended, packets, bytes, peak_pps, country, sensor`

func scanAttack(sc interface{ Scan(...any) error }) (store.Attack, error) {
	var a store.Attack
	var start, last int64
	err := sc.Scan(&a.ID, &a.Victim, &a.Protocol, &a.Port, &start, &last, &a.Ended, &a.Packets, &a.Bytes, &a.PeakPPS, &a.Country, &a.Sensor)
	a.Start, a.Last = time.Unix(0, start).UTC(), time.Unix(0, last).UTC()
	return a, err
}

// Attack implements store.PortalLookup.
func (db *DB) Attack(ctx context.Context, id string) (*store.Attack, error) {
	a, err := scanAttack(db.r.QueryRowContext(ctx, `SELECT `+attackCols+` FROM portal_attacks WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: attack: %w", err)
	}
	return &a, nil
}

// Attacks implements store.PortalLookup, newest first.
func (db *DB) Attacks(ctx context.Context, limit int) ([]store.Attack, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+attackCols+` FROM portal_attacks ORDER BY start DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: attacks: %w", err)
	}
	defer rows.Close()
	var out []store.Attack
	for rows.Next() {
		a, err := scanAttack(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// URL implements store.PortalLookup.
func (db *DB) URL(ctx context.Context, raw string) (*store.URL, error) {
	var u store.URL
	var seq, first, last int64
	err := db.r.QueryRowContext(ctx, `SELECT seq, url, host, first_seen, last_seen, status, sha256, count FROM urls WHERE url = ?`, raw).
		Scan(&seq, &u.URL, &u.Host, &first, &last, &u.Status, &u.SHA256, &u.Count)
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: url: %w", err)
	}
	u.FirstSeen, u.LastSeen, u.Cursor = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), encodeCursor(seq)
	return &u, nil
}

// SampleByHash implements store.PortalLookup. SHA-1 and MD5 lookups scan
// the samples table, which holds one row per distinct file (thousands, not
// millions).
func (db *DB) SampleByHash(ctx context.Context, hash string) (*store.Sample, error) {
	col := map[int]string{64: "sha256", 40: "sha1", 32: "md5"}[len(hash)]
	if col == "" {
		return nil, store.ErrNotFound
	}
	s, _, err := scanSample(db.r.QueryRowContext(ctx, `SELECT `+sampleCols+` FROM samples WHERE `+col+` = ? LIMIT 1`, hash))
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: sample by hash: %w", err)
	}
	return &s, nil
}

// SessionsByIP implements store.PortalLookup, newest first.
func (db *DB) SessionsByIP(ctx context.Context, ip netip.Addr, limit int) ([]store.Session, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id FROM sessions WHERE src_ip = ? ORDER BY start DESC LIMIT ?`, ip.Unmap().String(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: sessions by ip: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]store.Session, 0, len(ids))
	for _, id := range ids {
		s, err := db.Session(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, nil
}
