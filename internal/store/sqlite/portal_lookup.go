package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"

	"github.com/kansoku/kansoku/internal/store"
)

// URL implements store.PortalLookup.
func (db *DB) URL(ctx context.Context, raw string) (*store.URL, error) {
	u, err := scanURL(db.r.QueryRowContext(ctx, `SELECT `+urlCols+` FROM urls WHERE url = ?`, raw))
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: url: %w", err)
	}
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
	limit = store.PageLimit(limit)
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
