package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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
		rep := []byte("{}")
		if r, ok := e.Data["report"]; ok {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			rep = b
		}
		status := e.Str("status")
		if status == "" {
			status = "done"
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO reports (sha256, status, updated, family, arch, file_type, error, report) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(sha256) DO UPDATE SET status = excluded.status, updated = excluded.updated, family = excluded.family,
			arch = excluded.arch, file_type = excluded.file_type, error = excluded.error, report = excluded.report
			WHERE excluded.updated >= reports.updated`,
			sha, status, e.Time.UnixNano(), e.Str("family"), e.Str("arch"), e.Str("file_type"), e.Str("error"), string(rep))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE samples SET family = CASE WHEN ? != '' THEN ? ELSE family END, arch = CASE WHEN ? != '' THEN ? ELSE arch END,
			file_type = CASE WHEN ? != '' THEN ? ELSE file_type END WHERE sha256 = ?`,
			e.Str("family"), e.Str("family"), e.Str("arch"), e.Str("arch"), e.Str("file_type"), e.Str("file_type"), sha)
		return err
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
