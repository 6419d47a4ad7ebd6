package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// report stores an analysis.report event: the report itself (an older one
// arriving late does not replace a newer one), the sample's family, arch
// and file type, and the C2s and URLs it names.
func (d *deriver) report(e *event.Event) {
	sha := e.Str("sha256")
	if len(sha) != 64 {
		return
	}
	sha = clean(sha)
	rep, err := store.ReportJSON(e)
	if err != nil {
		rep = []byte("{}") // the report is lost, not the family and indicators
	}
	status := clean(store.ReportStatus(e))
	family, arch, ft := clean(e.Str("family")), clean(e.Str("arch")), clean(e.Str("file_type"))
	d.queue(`INSERT INTO reports (sha256, status, updated, family, arch, file_type, error, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json)
		ON CONFLICT (sha256) DO UPDATE SET status = excluded.status, updated = excluded.updated, family = excluded.family,
		arch = excluded.arch, file_type = excluded.file_type, error = excluded.error, report = excluded.report
		WHERE excluded.updated >= reports.updated`,
		sha, status, e.Time, family, arch, ft, clean(e.Str("error")), string(rep))
	d.queue(`UPDATE samples SET family = CASE WHEN $1::text <> '' THEN $1 ELSE family END, arch = CASE WHEN $2::text <> '' THEN $2 ELSE arch END,
		file_type = CASE WHEN $3::text <> '' THEN $3 ELSE file_type END WHERE sha256 = $4`, family, arch, ft, sha)
	// How each was observed, and whether it is published (reportIndicators
	// in the SQLite driver says the rules).
	for _, c := range store.ReportC2s(e) {
		host := clean(c.Host)
		d.queue(`INSERT INTO c2s (host, port, first_seen, last_seen, family, sha256, source, count, observed, confidence, review) VALUES ($1, $2, $3, $3, $4, $5, $6, 1, $7, $8, $9)
			ON CONFLICT (host, port) DO UPDATE SET first_seen = LEAST(c2s.first_seen, excluded.first_seen), last_seen = GREATEST(c2s.last_seen, excluded.last_seen),
			family = CASE WHEN excluded.family <> '' THEN excluded.family ELSE c2s.family END, sha256 = excluded.sha256, count = c2s.count + 1,
			observed = CASE WHEN excluded.confidence > c2s.confidence THEN excluded.observed ELSE c2s.observed END,
			source = CASE WHEN excluded.confidence > c2s.confidence THEN excluded.source ELSE c2s.source END,
			confidence = GREATEST(c2s.confidence, excluded.confidence),
			review = CASE WHEN c2s.review = 'pending' AND excluded.review = 'published' THEN 'published' ELSE c2s.review END`,
			host, int32(c.Port), e.Time, family, sha, clean(c.Source), clean(c.Observed), int32(c.Confidence), c.Review(c.Host))
		d.queue(`WITH ins AS (INSERT INTO indicator_samples VALUES ('c2', $1, $2) ON CONFLICT DO NOTHING RETURNING 1)
			UPDATE c2s SET samples = samples + 1, review = CASE WHEN review = 'pending' AND samples + 1 >= $3 THEN 'published' ELSE review END
			WHERE host = $4 AND port = $5 AND EXISTS (SELECT 1 FROM ins)`,
			host+":"+strconv.Itoa(c.Port), sha, int32(store.CorroboratingSamples), host, int32(c.Port))
	}
	for _, u := range store.ReportURLs(e) {
		raw := clean(u.URL)
		d.queue(`INSERT INTO urls (url, host, first_seen, last_seen, status, count, observed, confidence, review) VALUES ($1, $2, $3, $3, 'unknown', 0, $4, $5, $6)
			ON CONFLICT (url) DO UPDATE SET first_seen = LEAST(urls.first_seen, excluded.first_seen), last_seen = GREATEST(urls.last_seen, excluded.last_seen),
			observed = CASE WHEN excluded.confidence > urls.confidence THEN excluded.observed ELSE urls.observed END,
			confidence = GREATEST(urls.confidence, excluded.confidence),
			review = CASE WHEN urls.review = 'pending' AND excluded.review = 'published' THEN 'published' ELSE urls.review END`,
			raw, store.URLHost(raw), e.Time, clean(u.Observed), int32(u.Confidence), u.Review(store.URLHost(raw)))
		d.queue(`WITH ins AS (INSERT INTO indicator_samples VALUES ('url', $1, $2) ON CONFLICT DO NOTHING RETURNING 1)
			UPDATE urls SET samples = samples + 1, review = CASE WHEN review = 'pending' AND samples + 1 >= $3 THEN 'published' ELSE review END
			WHERE url = $1 AND EXISTS (SELECT 1 FROM ins)`,
			raw, sha, int32(store.CorroboratingSamples))
	}
}

// Report implements store.ReportStore.
func (db *DB) Report(ctx context.Context, sha256 string) (*store.Report, error) {
	var r store.Report
	var rep string
	err := db.pool.QueryRow(ctx, `SELECT sha256, status, updated, family, arch, file_type, error, report::text FROM reports WHERE sha256 = $1`, clean(sha256)).
		Scan(&r.SHA256, &r.Status, &r.Updated, &r.Family, &r.Arch, &r.FileType, &r.Error, &rep)
	if err != nil {
		return nil, notFound("report", err)
	}
	r.Updated = r.Updated.UTC()
	r.Report = json.RawMessage(rep)
	return &r, nil
}

const c2Cols = `seq, host, port, first_seen, last_seen, family, sha256, source, count, observed, confidence, review, samples`

func scanC2(r pgx.CollectableRow) (store.C2, error) {
	var c store.C2
	var seq int64
	var port int32
	err := r.Scan(&seq, &c.Host, &port, &c.FirstSeen, &c.LastSeen, &c.Family, &c.SHA256, &c.Source, &c.Count, &c.Observed, &c.Confidence, &c.Review, &c.Samples)
	c.Port, c.FirstSeen, c.LastSeen, c.Cursor = uint16(port), c.FirstSeen.UTC(), c.LastSeen.UTC(), store.EncodeCursor(seq)
	return c, err
}

// C2s implements store.Store.
func (db *DB) C2s(ctx context.Context, q store.ListQuery) ([]store.C2, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+c2Cols+` FROM c2s WHERE review = $4 AND seq > $1 AND last_seen >= $2 ORDER BY seq LIMIT $3`, after, q.Since, limit, q.ReviewState())
	if err != nil {
		return nil, fmt.Errorf("store: c2s: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanC2)
	if err != nil {
		return nil, fmt.Errorf("store: c2s: %w", err)
	}
	return out, nil
}

// ReviewIndicator implements store.Store.
func (db *DB) ReviewIndicator(ctx context.Context, kind, value string, port uint16, state string) error {
	if err := store.CheckReview(kind, state); err != nil {
		return err
	}
	var tag pgconn.CommandTag
	var err error
	if kind == "url" {
		tag, err = db.pool.Exec(ctx, `UPDATE urls SET review = $1 WHERE url = $2`, state, clean(value))
	} else {
		tag, err = db.pool.Exec(ctx, `UPDATE c2s SET review = $1 WHERE host = $2 AND port = $3`, state, clean(value), int32(port))
	}
	if err != nil {
		return fmt.Errorf("store: review %s: %w", kind, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
