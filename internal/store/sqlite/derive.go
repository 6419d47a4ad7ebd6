package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// tableDeriver keeps one more derived table up to date. Files in this
// package that add tables (attacks, hosts, reports, dashboard aggregates)
// register one in init; a fresh one is made per insert transaction, sees
// only events stored for the first time, and is flushed before commit, so
// it can accumulate per batch.
type tableDeriver interface {
	Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error
	Flush(ctx context.Context, tx *sql.Tx) error
}

var extraDerivers []func() tableDeriver

// registerDeriver adds a table deriver; call from init only.
func registerDeriver(f func() tableDeriver) { extraDerivers = append(extraDerivers, f) }

// deriver updates the tables derived from events, inside the insert
// transaction, only for events stored for the first time: that is what
// makes redelivery harmless for counters too.
type deriver struct {
	tx    *sql.Tx
	daily map[[4]string]int64
	known map[string]int64 // sessions ensured in this transaction: the earliest start written
	extra []tableDeriver
	stmts map[string]*sql.Stmt
}

// exec runs a statement prepared once per transaction: parsing SQL for
// every event costs more than running it.
func (d *deriver) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := d.stmts[query]
	if !ok {
		var err error
		if st, err = d.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		d.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

func (d *deriver) close() {
	for _, st := range d.stmts {
		st.Close()
	}
}

func newDeriver(tx *sql.Tx) *deriver {
	d := &deriver{tx: tx, daily: map[[4]string]int64{}, known: map[string]int64{}, stmts: map[string]*sql.Stmt{}}
	for _, f := range extraDerivers {
		d.extra = append(d.extra, f())
	}
	return d
}

func (d *deriver) derive(ctx context.Context, e *event.Event) error {
	d.daily[[4]string{e.Time.UTC().Format(time.DateOnly), e.Honeypot, e.Kind, e.Str("src_country")}]++
	t := e.Time.UnixNano()
	var err error
	switch e.Kind {
	case "session.connect":
		err = d.ensureSession(ctx, e)
	case "session.closed":
		if err = d.ensureSession(ctx, e); err == nil {
			_, err = d.exec(ctx, `UPDATE sessions SET end = max(coalesce(end, 0), ?), duration = ?, bytes_in = ?, bytes_out = ?, reason = ? WHERE id = ?`,
				t, store.FloatOf(e.Data["duration"]), e.Int("bytes_in"), e.Int("bytes_out"), e.Str("reason"), e.Session)
		}
	case "login.success":
		if err = d.ensureSession(ctx, e); err == nil {
			_, err = d.exec(ctx, `UPDATE sessions SET username = ?, password = ?, logged_in = 1 WHERE id = ?`, e.Text("username"), e.Text("password"), e.Session)
		}
	case "login.failed":
		if err = d.ensureSession(ctx, e); err == nil {
			_, err = d.exec(ctx, `UPDATE sessions SET username = ?, password = ? WHERE id = ? AND logged_in = 0`, e.Text("username"), e.Text("password"), e.Session)
		}
	case "command.input":
		if err = d.ensureSession(ctx, e); err == nil {
			_, err = d.exec(ctx, `UPDATE sessions SET commands = commands + 1 WHERE id = ?`, e.Session)
		}
	case "command.dropper":
		if err = d.ensureSession(ctx, e); err == nil {
			_, err = d.exec(ctx, `UPDATE sessions SET commands = commands + ? WHERE id = ?`, max(e.Int("lines"), 1), e.Session)
		}
	case "sample.captured":
		err = d.sample(ctx, e, t)
	case "download.ok", "download.failed":
		err = d.url(ctx, e, t)
	}
	if err != nil {
		return err
	}
	for _, x := range d.extra {
		if err := x.Derive(ctx, d.tx, e); err != nil {
			return err
		}
	}
	return nil
}

// ensureSession creates the session row from any of its events, so that
// the row exists whatever order batches are stored in (collectors store in
// parallel, and the connect event may be lost to retention). The start is
// the earliest event time seen, never the first stored.
func (d *deriver) ensureSession(ctx context.Context, e *event.Event) error {
	t := e.Time.UnixNano()
	if e.Session == "" {
		return nil
	}
	if known, ok := d.known[e.Session]; ok && known <= t {
		return nil
	}
	d.known[e.Session] = t
	_, err := d.exec(ctx, `INSERT INTO sessions (id, sensor, honeypot, src_ip, src_port, dst_port, start, country, asn)
		VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET start = min(start, excluded.start)`, e.Session, e.Sensor, e.Honeypot, addr(e.SrcIP), e.SrcPort, e.DstPort, t, e.Str("src_country"), e.Int("src_asn"))
	return err
}

func (d *deriver) sample(ctx context.Context, e *event.Event, t int64) error {
	sha := e.Str("sha256")
	if len(sha) != 64 {
		return nil
	}
	u := e.Text("url")
	_, err := d.exec(ctx, `INSERT INTO samples (sha256, sha1, md5, size, first_seen, last_seen, url) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT(sha256) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
		url = CASE WHEN url = '' THEN excluded.url ELSE url END`,
		sha, e.Str("sha1"), e.Str("md5"), e.Int("size"), t, t, u)
	if err != nil {
		return err
	}
	if e.SrcIP.IsValid() {
		res, err := d.exec(ctx, `INSERT INTO sample_sources VALUES (?, ?) ON CONFLICT DO NOTHING`, sha, e.SrcIP.String())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k > 0 {
			_, err = d.exec(ctx, `UPDATE samples SET source_count = source_count + 1 WHERE sha256 = ?`, sha)
		}
		return err
	}
	return nil
}

func (d *deriver) url(ctx context.Context, e *event.Event, t int64) error {
	raw := e.Text("url")
	if raw == "" {
		return nil
	}
	// A URL a bot fetched in a session is observed; one only a report
	// named becomes published by it (unless rejected or well-known).
	_, err := d.exec(ctx, `INSERT INTO urls (url, host, first_seen, last_seen, status, sha256, count, observed, confidence, review) VALUES (?,?,?,?,?,?,1,'session-fetch',90,?)
		ON CONFLICT(url) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),
		count = count + 1,
		status = CASE WHEN excluded.last_seen >= last_seen THEN excluded.status ELSE status END,
		sha256 = CASE WHEN excluded.sha256 != '' THEN excluded.sha256 ELSE sha256 END,
		last_seen = max(last_seen, excluded.last_seen),
		observed = 'session-fetch', confidence = max(confidence, 90),
		review = CASE WHEN review = 'pending' THEN excluded.review ELSE review END`,
		raw, store.URLHost(raw), t, t, store.URLStatus(e), e.Str("sha256"), store.SessionURLReview(raw))
	return err
}

func (d *deriver) flush(ctx context.Context) error {
	for _, x := range d.extra {
		if err := x.Flush(ctx, d.tx); err != nil {
			return err
		}
	}
	if len(d.daily) == 0 {
		return nil
	}
	st, err := d.tx.PrepareContext(ctx, `INSERT INTO daily_counts VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return err
	}
	defer st.Close()
	for k, n := range d.daily {
		if _, err := st.ExecContext(ctx, k[0], k[1], k[2], k[3], n); err != nil {
			return err
		}
	}
	return nil
}
