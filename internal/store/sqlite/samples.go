package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect runs a query on the read pool and scans each row; nil when none.
func collect[T any](ctx context.Context, db *DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

const sampleCols = `seq, sha256, sha1, md5, size, first_seen, last_seen, source_count, file_type, family, arch, url`

func scanSample(sc scanner) (store.Sample, int64, error) {
	var s store.Sample
	var seq, first, last int64
	err := sc.Scan(&seq, &s.SHA256, &s.SHA1, &s.MD5, &s.Size, &first, &last, &s.SourceCount, &s.FileType, &s.Family, &s.Arch, &s.URL)
	s.FirstSeen, s.LastSeen = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	s.Cursor = store.EncodeCursor(seq)
	return s, seq, err
}

// Sample implements store.Store.
func (db *DB) Sample(ctx context.Context, sha256 string) (*store.Sample, error) {
	s, _, err := scanSample(db.r.QueryRowContext(ctx, `SELECT `+sampleCols+` FROM samples WHERE sha256 = ?`, sha256))
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: sample: %w", err)
	}
	return &s, nil
}

// Samples implements store.Store: first-seen order, cursor on insertion.
func (db *DB) Samples(ctx context.Context, q store.ListQuery) ([]store.Sample, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	out, err := collect(ctx, db, func(sc scanner) (store.Sample, error) { s, _, err := scanSample(sc); return s, err },
		`SELECT `+sampleCols+` FROM samples WHERE seq > ? AND last_seen >= ? ORDER BY seq LIMIT ?`, after, since(q), limit)
	if err != nil {
		return nil, fmt.Errorf("store: samples: %w", err)
	}
	return out, nil
}

const urlCols = `seq, url, host, first_seen, last_seen, status, sha256, count, observed, confidence, review, samples`

func scanURL(sc scanner) (store.URL, error) {
	var u store.URL
	var seq, first, last int64
	err := sc.Scan(&seq, &u.URL, &u.Host, &first, &last, &u.Status, &u.SHA256, &u.Count, &u.Observed, &u.Confidence, &u.Review, &u.Samples)
	u.FirstSeen, u.LastSeen, u.Cursor = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), store.EncodeCursor(seq)
	return u, err
}

// URLs implements store.Store.
func (db *DB) URLs(ctx context.Context, q store.ListQuery) ([]store.URL, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	out, err := collect(ctx, db, scanURL, `SELECT `+urlCols+` FROM urls WHERE review = ? AND seq > ? AND last_seen >= ? ORDER BY seq LIMIT ?`,
		q.ReviewState(), after, since(q), limit)
	if err != nil {
		return nil, fmt.Errorf("store: urls: %w", err)
	}
	return out, nil
}

func since(q store.ListQuery) int64 {
	if q.Since.IsZero() {
		return 0
	}
	return q.Since.UnixNano()
}
