package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() { registerDeriver(func() tableDeriver { return reportDeriver{} }) }

// reportDeriver marks new samples as queued for analysis and stores the
// reports workers emit as analysis.report events.
type reportDeriver struct{}

func (reportDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	switch e.Kind {
	case "sample.captured":
		sha := e.Str("sha256")
		if len(sha) != 64 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO reports (sha256, status, updated) VALUES (?, 'queued', ?) ON CONFLICT DO NOTHING`, sha, e.Time.UnixNano())
		return err
	case "analysis.report":
		sha := e.Str("sha256")
		if len(sha) != 64 {
			return nil
		}
		rep, err := store.ReportJSON(e)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reports (sha256, status, updated, family, arch, file_type, error, report) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(sha256) DO UPDATE SET status = excluded.status, updated = excluded.updated, family = excluded.family,
			arch = excluded.arch, file_type = excluded.file_type, error = excluded.error, report = excluded.report
			WHERE excluded.updated >= reports.updated`,
			sha, store.ReportStatus(e), e.Time.UnixNano(), e.Str("family"), e.Str("arch"), e.Str("file_type"), e.Str("error"), string(rep))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE samples SET family = CASE WHEN ? != '' THEN ? ELSE family END, arch = CASE WHEN ? != '' THEN ? ELSE arch END,
			file_type = CASE WHEN ? != '' THEN ? ELSE file_type END WHERE sha256 = ?`,
			e.Str("family"), e.Str("family"), e.Str("arch"), e.Str("arch"), e.Str("file_type"), e.Str("file_type"), sha)
		if err != nil {
			return err
		}
		return reportIndicators(ctx, tx, e, sha)
	}
	return nil
}

// reportIndicators files the C2s and URLs a report names into their
// tables with how they were observed. A corroborated one is published; the
// rest wait for an admin's review or for store.CorroboratingSamples
// distinct samples to name them. A higher confidence replaces a lower one;
// rejected and allowlisted ones stay so.
func reportIndicators(ctx context.Context, tx *sql.Tx, e *event.Event, sha string) error {
	t := e.Time.UnixNano()
	for _, c := range store.ReportC2s(e) {
		_, err := tx.ExecContext(ctx, `INSERT INTO c2s (host, port, first_seen, last_seen, family, sha256, source, count, observed, confidence, review) VALUES (?,?,?,?,?,?,?,1,?,?,?)
			ON CONFLICT(host, port) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
			family = CASE WHEN excluded.family != '' THEN excluded.family ELSE family END, sha256 = excluded.sha256, count = count + 1,
			observed = CASE WHEN excluded.confidence > confidence THEN excluded.observed ELSE observed END,
			source = CASE WHEN excluded.confidence > confidence THEN excluded.source ELSE source END,
			confidence = max(confidence, excluded.confidence),
			review = CASE WHEN review = 'pending' AND excluded.review = 'published' THEN 'published' ELSE review END`,
			c.Host, c.Port, t, t, e.Str("family"), sha, c.Source, c.Observed, c.Confidence, c.Review(c.Host))
		if err != nil {
			return err
		}
		if err := corroborate(ctx, tx, "c2s", "c2", c.Host+":"+strconv.Itoa(c.Port), sha, `host = ? AND port = ?`, c.Host, c.Port); err != nil {
			return err
		}
	}
	for _, u := range store.ReportURLs(e) {
		_, err := tx.ExecContext(ctx, `INSERT INTO urls (url, host, first_seen, last_seen, status, count, observed, confidence, review) VALUES (?,?,?,?, 'unknown', 0, ?, ?, ?)
			ON CONFLICT(url) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
			observed = CASE WHEN excluded.confidence > confidence THEN excluded.observed ELSE observed END,
			confidence = max(confidence, excluded.confidence),
			review = CASE WHEN review = 'pending' AND excluded.review = 'published' THEN 'published' ELSE review END`,
			u.URL, store.URLHost(u.URL), t, t, u.Observed, u.Confidence, u.Review(store.URLHost(u.URL)))
		if err != nil {
			return err
		}
		if err := corroborate(ctx, tx, "urls", "url", u.URL, sha, `url = ?`, u.URL); err != nil {
			return err
		}
	}
	return nil
}

// corroborate counts sha as one more distinct sample naming the
// indicator, and publishes a pending one that enough samples name.
func corroborate(ctx context.Context, tx *sql.Tx, table, kind, value, sha, where string, args ...any) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO indicator_samples VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, kind, value, sha)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE `+table+` SET samples = samples + 1,
		review = CASE WHEN review = 'pending' AND samples + 1 >= ? THEN 'published' ELSE review END WHERE `+where,
		append([]any{store.CorroboratingSamples}, args...)...)
	return err
}

const c2Cols = `seq, host, port, first_seen, last_seen, family, sha256, source, count, observed, confidence, review, samples`

func scanC2(sc scanner) (store.C2, error) {
	var c store.C2
	var seq, first, last int64
	err := sc.Scan(&seq, &c.Host, &c.Port, &first, &last, &c.Family, &c.SHA256, &c.Source, &c.Count, &c.Observed, &c.Confidence, &c.Review, &c.Samples)
	c.FirstSeen, c.LastSeen, c.Cursor = time.Unix(0, first).UTC(), time.Unix(0, last).UTC(), store.EncodeCursor(seq)
	return c, err
}

// C2s implements store.Store.
func (db *DB) C2s(ctx context.Context, q store.ListQuery) ([]store.C2, error) {
	after, limit, err := store.ListBounds(q)
	if err != nil {
		return nil, err
	}
	out, err := collect(ctx, db, scanC2, `SELECT `+c2Cols+` FROM c2s WHERE review = ? AND seq > ? AND last_seen >= ? ORDER BY seq LIMIT ?`,
		q.ReviewState(), after, since(q), limit)
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
	var res sql.Result
	var err error
	if kind == "url" {
		res, err = db.w.ExecContext(ctx, `UPDATE urls SET review = ? WHERE url = ?`, state, value)
	} else {
		res, err = db.w.ExecContext(ctx, `UPDATE c2s SET review = ? WHERE host = ? AND port = ?`, state, value, port)
	}
	if err != nil {
		return fmt.Errorf("store: review %s: %w", kind, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (reportDeriver) Flush(context.Context, *sql.Tx) error { return nil }

// Report implements store.ReportStore.
func (db *DB) Report(ctx context.Context, sha256 string) (*store.Report, error) {
	var r store.Report
	var updated int64
	var rep string
	err := db.r.QueryRowContext(ctx, `SELECT sha256, status, updated, family, arch, file_type, error, report FROM reports WHERE sha256 = ?`, sha256).
		Scan(&r.SHA256, &r.Status, &updated, &r.Family, &r.Arch, &r.FileType, &r.Error, &rep)
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: report: %w", err)
	}
	r.Updated = time.Unix(0, updated).UTC()
	r.Report = json.RawMessage(rep)
	return &r, nil
}
