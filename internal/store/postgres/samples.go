package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/store"
)

const sampleCols = `seq, sha256, sha1, md5, size, first_seen, last_seen, source_count, file_type, family, arch, url`

func scanSample(sc pgx.Row) (store.Sample, error) {
	var s store.Sample
	var seq int64
	err := sc.Scan(&seq, &s.SHA256, &s.SHA1, &s.MD5, &s.Size, &s.FirstSeen, &s.LastSeen, &s.SourceCount, &s.FileType, &s.Family, &s.Arch, &s.URL)
	s.FirstSeen, s.LastSeen, s.Cursor = s.FirstSeen.UTC(), s.LastSeen.UTC(), store.EncodeCursor(seq)
	return s, err
}

// Sample implements store.Store.
func (db *DB) Sample(ctx context.Context, sha256 string) (*store.Sample, error) {
	s, err := scanSample(db.pool.QueryRow(ctx, `SELECT `+sampleCols+` FROM samples WHERE sha256 = $1`, clean(sha256)))
	if err != nil {
		return nil, notFound("sample", err)
	}
	return &s, nil
}

// SampleByHash implements store.PortalLookup: SHA-256, SHA-1 or MD5, each
// over its own index.
func (db *DB) SampleByHash(ctx context.Context, hash string) (*store.Sample, error) {
	col := map[int]string{64: "sha256", 40: "sha1", 32: "md5"}[len(hash)]
	if col == "" {
		return nil, store.ErrNotFound
	}
	// col is one of three constants, never input.
	s, err := scanSample(db.pool.QueryRow(ctx, `SELECT `+sampleCols+` FROM samples WHERE `+col+` = $1 ORDER BY seq LIMIT 1`, clean(hash)))
	if err != nil {
		return nil, notFound("sample by hash", err)
	}
	return &s, nil
}

// Samples implements store.Store: first-seen order, cursor on insertion.
func (db *DB) Samples(ctx context.Context, q store.ListQuery) ([]store.Sample, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+sampleCols+` FROM samples WHERE seq > $1 AND last_seen >= $2 ORDER BY seq LIMIT $3`, after, q.Since, limit)
	if err != nil {
		return nil, fmt.Errorf("store: samples: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Sample, error) { return scanSample(r) })
	if err != nil {
		return nil, fmt.Errorf("store: samples: %w", err)
	}
	return out, nil
}

const urlCols = `seq, url, host, first_seen, last_seen, status, sha256, count, observed, confidence, review, samples`

func scanURL(sc pgx.Row) (store.URL, error) {
	var u store.URL
	var seq int64
	err := sc.Scan(&seq, &u.URL, &u.Host, &u.FirstSeen, &u.LastSeen, &u.Status, &u.SHA256, &u.Count, &u.Observed, &u.Confidence, &u.Review, &u.Samples)
	u.FirstSeen, u.LastSeen, u.Cursor = u.FirstSeen.UTC(), u.LastSeen.UTC(), store.EncodeCursor(seq)
	return u, err
}

// URLs implements store.Store.
func (db *DB) URLs(ctx context.Context, q store.ListQuery) ([]store.URL, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+urlCols+` FROM urls WHERE review = $4 AND seq > $1 AND last_seen >= $2 ORDER BY seq LIMIT $3`, after, q.Since, limit, q.ReviewState())
	if err != nil {
		return nil, fmt.Errorf("store: urls: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.URL, error) { return scanURL(r) })
	if err != nil {
		return nil, fmt.Errorf("store: urls: %w", err)
	}
	return out, nil
}

// URL implements store.PortalLookup.
func (db *DB) URL(ctx context.Context, raw string) (*store.URL, error) {
	u, err := scanURL(db.pool.QueryRow(ctx, `SELECT `+urlCols+` FROM urls WHERE url = $1`, clean(raw)))
	if err != nil {
		return nil, notFound("url", err)
	}
	return &u, nil
}
