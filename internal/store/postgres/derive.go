package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// deriver updates the tables derived from events inside the insert
// transaction, only for events stored for the first time: that is what
// makes redelivery harmless for counters too. Writes are queued into one
// pgx.Batch and sent in a single round trip; the few derivations that must
// read first (merging attacks) send what is queued before they read, so
// every statement still sees the ones before it.
type deriver struct {
	tx      pgx.Tx
	b       *pgx.Batch
	daily   map[[4]string]int64
	portal  map[[3]string]int64
	known   map[string]time.Time // sessions ensured in this transaction: the earliest start written
	samples map[string]bool      // samples counted as new in this transaction
}

func newDeriver(tx pgx.Tx) *deriver {
	return &deriver{tx: tx, b: &pgx.Batch{}, daily: map[[4]string]int64{}, portal: map[[3]string]int64{},
		known: map[string]time.Time{}, samples: map[string]bool{}}
}

func (d *deriver) queue(sql string, args ...any) { d.b.Queue(sql, args...) }

// send runs the queued statements; the first error fails the batch.
func (d *deriver) send(ctx context.Context) error {
	if d.b.Len() == 0 {
		return nil
	}
	b := d.b
	d.b = &pgx.Batch{}
	return d.tx.SendBatch(ctx, b).Close()
}

const ensureSessionSQL = `INSERT INTO sessions (id, sensor, honeypot, src_ip, src_port, dst_port, start, country, asn)
	VALUES ($1, $2, $3, NULLIF($4, '')::inet, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET start = LEAST(sessions.start, excluded.start)
	WHERE excluded.start < sessions.start`

func (d *deriver) derive(ctx context.Context, e *event.Event) error {
	day := e.Time.UTC().Format(time.DateOnly)
	d.daily[[4]string{day, clean(e.Honeypot), clean(e.Kind), clean(e.Str("src_country"))}]++
	sid := clean(e.Session)
	switch e.Kind {
	case "session.connect":
		d.ensureSession(e)
	case "session.closed":
		d.ensureSession(e)
		d.queue(`UPDATE sessions SET end_at = GREATEST(end_at, $1), duration = $2, bytes_in = $3, bytes_out = $4, reason = $5 WHERE id = $6`,
			e.Time, store.FloatOf(e.Data["duration"]), e.Int("bytes_in"), e.Int("bytes_out"), clean(e.Str("reason")), sid)
	case "login.success":
		d.ensureSession(e)
		d.queue(`UPDATE sessions SET username = $1, password = $2, logged_in = true WHERE id = $3`, []byte(e.Text("username")), []byte(e.Text("password")), sid)
	case "login.failed":
		d.ensureSession(e)
		d.queue(`UPDATE sessions SET username = $1, password = $2 WHERE id = $3 AND NOT logged_in`, []byte(e.Text("username")), []byte(e.Text("password")), sid)
	case "command.input":
		d.ensureSession(e)
		d.queue(`UPDATE sessions SET commands = commands + 1 WHERE id = $1`, sid)
	case "command.dropper":
		d.ensureSession(e)
		d.queue(`UPDATE sessions SET commands = commands + $1 WHERE id = $2`, max(e.Int("lines"), 1), sid)
	case "sample.captured":
		d.sample(e, day)
	case "download.ok", "download.failed":
		d.url(e)
	case "analysis.report":
		d.report(e)
	case "scan.result":
		d.host(e)
	case "amp.attack.start", "amp.attack.update", "amp.attack.end":
		if err := d.attack(ctx, e); err != nil {
			return err
		}
	}
	d.exploit(e, day)
	d.count(e, day)
	return nil
}

// ensureSession creates the session row from any of its events, so that
// the row exists whatever order batches are stored in (collectors store in
// parallel, and the connect event may be lost to retention). The start is
// the earliest event time seen, never the first stored.
func (d *deriver) ensureSession(e *event.Event) {
	if e.Session == "" {
		return
	}
	if known, ok := d.known[e.Session]; ok && !e.Time.Before(known) {
		return
	}
	d.known[e.Session] = e.Time
	d.queue(ensureSessionSQL, clean(e.Session), clean(e.Sensor), clean(e.Honeypot), addr(e.SrcIP), int32(e.SrcPort), int32(e.DstPort),
		e.Time, clean(e.Str("src_country")), e.Int("src_asn"))
}

func (d *deriver) sample(e *event.Event, day string) {
	sha := e.Str("sha256")
	if len(sha) != 64 {
		return
	}
	sha = clean(sha)
	d.queue(`INSERT INTO samples (sha256, sha1, md5, size, first_seen, last_seen, url) VALUES ($1, $2, $3, $4, $5, $5, $6)
		ON CONFLICT (sha256) DO UPDATE SET first_seen = LEAST(samples.first_seen, excluded.first_seen),
		last_seen = GREATEST(samples.last_seen, excluded.last_seen),
		url = CASE WHEN samples.url = '' THEN excluded.url ELSE samples.url END`,
		sha, clean(e.Str("sha1")), clean(e.Str("md5")), e.Int("size"), e.Time, clean(e.Text("url")))
	if e.SrcIP.IsValid() {
		d.queue(`WITH src AS (INSERT INTO sample_sources (sha256, src_ip) VALUES ($1, $2::inet) ON CONFLICT DO NOTHING RETURNING 1)
			UPDATE samples SET source_count = source_count + (SELECT count(*) FROM src) WHERE sha256 = $1`, sha, addr(e.SrcIP))
	}
	d.queue(`INSERT INTO reports (sha256, status, updated) VALUES ($1, 'queued', $2) ON CONFLICT DO NOTHING`, sha, e.Time)
	// The dashboard counts a sample on the day of its first sighting: when
	// that is this event.
	if !d.samples[sha] {
		d.samples[sha] = true
		d.queue(`INSERT INTO portal_counts (dim, day, key, n) SELECT 'samples', $1::date, ''::bytea, 1 FROM samples WHERE sha256 = $2 AND first_seen = $3
			ON CONFLICT (dim, day, key) DO UPDATE SET n = portal_counts.n + excluded.n`, day, sha, e.Time)
	}
}

func (d *deriver) url(e *event.Event) {
	raw := clean(e.Text("url"))
	if raw == "" {
		return
	}
	// A URL a bot fetched in a session is observed; one only a report
	// named becomes published by it (unless rejected or well-known).
	d.queue(`INSERT INTO urls (url, host, first_seen, last_seen, status, sha256, count, observed, confidence, review) VALUES ($1, $2, $3, $3, $4, $5, 1, 'session-fetch', 90, $6)
		ON CONFLICT (url) DO UPDATE SET first_seen = LEAST(urls.first_seen, excluded.first_seen),
		count = urls.count + 1,
		status = CASE WHEN excluded.last_seen >= urls.last_seen THEN excluded.status ELSE urls.status END,
		sha256 = CASE WHEN excluded.sha256 <> '' THEN excluded.sha256 ELSE urls.sha256 END,
		last_seen = GREATEST(urls.last_seen, excluded.last_seen),
		observed = 'session-fetch', confidence = GREATEST(urls.confidence, 90),
		review = CASE WHEN urls.review = 'pending' THEN excluded.review ELSE urls.review END`,
		raw, store.URLHost(raw), e.Time, store.URLStatus(e), clean(e.Str("sha256")), store.SessionURLReview(raw))
}

// count adds e to the dashboard's per-day counters, written at flush.
func (d *deriver) count(e *event.Event, day string) {
	store.PortalCounts(e, func(dim, key string) { d.portal[[3]string{dim, day, key}]++ })
}

func (d *deriver) flush(ctx context.Context) error {
	for k, n := range d.portal {
		d.queue(`INSERT INTO portal_counts (dim, day, key, n) VALUES ($1, $2::date, $3, $4)
			ON CONFLICT (dim, day, key) DO UPDATE SET n = portal_counts.n + excluded.n`, k[0], k[1], []byte(k[2]), n)
	}
	for k, n := range d.daily {
		d.queue(`INSERT INTO daily_counts (day, honeypot, kind, country, n) VALUES ($1::date, $2, $3, $4, $5)
			ON CONFLICT (day, honeypot, kind, country) DO UPDATE SET n = daily_counts.n + excluded.n`, k[0], k[1], k[2], k[3], n)
	}
	return d.send(ctx)
}
