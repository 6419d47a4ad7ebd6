package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// Dashboard implements store.PortalStore from the portal_counts table.
func (db *DB) Dashboard(ctx context.Context, since time.Time, top int) (*store.Dashboard, error) {
	return store.ReadDashboard(ctx, since, time.Now(), top, store.DashboardSource{
		PerDay: db.perDay, Top: db.topKeys, NewURLs: db.newestURLs, NewC2s: db.newestC2s})
}

func (db *DB) perDay(ctx context.Context, dim, first string, distinct bool) ([]store.Count, error) {
	if distinct {
		return db.counts(ctx, `SELECT day, COUNT(*) FROM portal_counts WHERE dim = ? AND day >= ? GROUP BY day`, dim, first)
	}
	return db.counts(ctx, `SELECT day, n FROM portal_counts WHERE dim = ? AND day >= ? AND key = ''`, dim, first)
}

// topKeys is nil when no key was counted, as the dashboard has always
// encoded it (null).
func (db *DB) topKeys(ctx context.Context, dim, first string, n int) ([]store.Count, error) {
	return collect(ctx, db, scanCount, `SELECT key, SUM(n) FROM portal_counts WHERE dim = ? AND day >= ? GROUP BY key ORDER BY 2 DESC, 1 LIMIT ?`, dim, first, n)
}

func (db *DB) newestURLs(ctx context.Context, n int) ([]store.URL, error) {
	out, err := collect(ctx, db, scanURL, `SELECT `+urlCols+` FROM urls WHERE review = 'published' ORDER BY seq DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("store: newest urls: %w", err)
	}
	return out, nil
}

func (db *DB) newestC2s(ctx context.Context, n int) ([]store.C2, error) {
	out, err := collect(ctx, db, scanC2, `SELECT `+c2Cols+` FROM c2s WHERE review = 'published' ORDER BY seq DESC LIMIT ?`, n)
	if err != nil {
		return nil, fmt.Errorf("store: newest c2s: %w", err)
	}
	return out, nil
}

// The infection check's two queries; portal_internal_test.go checks that
// SQLite answers both from an index.
const (
	addressEventsSQL = `SELECT id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, data
		FROM events WHERE src_ip = ? AND time >= ? ORDER BY time DESC LIMIT ?`
	addressScansSQL = `SELECT id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, data
		FROM events WHERE dst_ip = ? AND honeypot = 'scan' AND time >= ? ORDER BY time DESC LIMIT ?`
)

// AddressEvents implements store.PortalStore: events from ip over the
// (src_ip, time) index, and scanner results about ip over the partial
// (dst_ip, time) index of scan events, newest first.
func (db *DB) AddressEvents(ctx context.Context, ip netip.Addr, since time.Time, limit int) ([]*event.Event, error) {
	limit = store.AddressEventLimit(limit)
	a := ip.Unmap().String()
	out, err := db.eventRows(ctx, addressEventsSQL, a, since.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	scans, err := db.eventRows(ctx, addressScansSQL, a, since.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	return store.NewestFirst(append(out, scans...), limit), nil
}

func (db *DB) eventRows(ctx context.Context, q string, args ...any) ([]*event.Event, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: address events: %w", err)
	}
	defer rows.Close()
	var out []*event.Event
	for rows.Next() {
		var t int64
		var e event.Event
		var src, dst, data string
		if err := rows.Scan(&e.ID, &t, &e.Sensor, &e.Honeypot, &e.Kind, &e.Session, &src, &e.SrcPort, &dst, &e.DstPort, &e.Transport, &data); err != nil {
			return nil, fmt.Errorf("store: scan event: %w", err)
		}
		e.Time = time.Unix(0, t).UTC()
		e.SrcIP, _ = netip.ParseAddr(src)
		e.DstIP, _ = netip.ParseAddr(dst)
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, fmt.Errorf("store: decode event %s: %w", e.ID, err)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// CreateUser implements store.PortalStore; an existing user's hash is replaced.
func (db *DB) CreateUser(ctx context.Context, name, pwHash string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO portal_users (name, pw_hash, created) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET pw_hash = excluded.pw_hash`,
		name, pwHash, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UserHash implements store.PortalStore.
func (db *DB) UserHash(ctx context.Context, name string) (string, error) {
	var h string
	err := db.r.QueryRowContext(ctx, `SELECT pw_hash FROM portal_users WHERE name = ?`, name).Scan(&h)
	if err == sql.ErrNoRows {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: user: %w", err)
	}
	return h, nil
}

// CreateAdminSession implements store.PortalStore; expired sessions are
// removed on the way.
func (db *DB) CreateAdminSession(ctx context.Context, s store.AdminSession) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM portal_sessions WHERE expires < ?`, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("store: expire sessions: %w", err)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO portal_sessions (token_hash, user, csrf, expires) VALUES (?,?,?,?)`, s.TokenHash, s.User, s.CSRF, s.Expires.UnixNano())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// AdminSession implements store.PortalStore.
func (db *DB) AdminSession(ctx context.Context, tokenHash string, now time.Time) (*store.AdminSession, error) {
	var s store.AdminSession
	var exp int64
	err := db.r.QueryRowContext(ctx, `SELECT token_hash, user, csrf, expires FROM portal_sessions WHERE token_hash = ? AND expires > ?`, tokenHash, now.UnixNano()).
		Scan(&s.TokenHash, &s.User, &s.CSRF, &exp)
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	s.Expires = time.Unix(0, exp).UTC()
	return &s, nil
}

// DeleteAdminSession implements store.PortalStore.
func (db *DB) DeleteAdminSession(ctx context.Context, tokenHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM portal_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

// CreateAPIKey implements store.PortalStore.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO api_keys (id, key_hash, name, scopes, prefixes, created) VALUES (?,?,?,?,?,?)`,
		k.ID, k.KeyHash, k.Name, strings.Join(k.Scopes, " "), joinPrefixes(k.Prefixes), k.Created.UnixNano())
	if err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

const apiKeyCols = `id, key_hash, name, scopes, prefixes, created, revoked`

func scanAPIKey(sc interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var scopes, prefixes string
	var created int64
	if err := sc.Scan(&k.ID, &k.KeyHash, &k.Name, &scopes, &prefixes, &created, &k.Revoked); err != nil {
		return k, err
	}
	k.Scopes = strings.Fields(scopes)
	for _, p := range strings.Fields(prefixes) {
		if pp, err := netip.ParsePrefix(p); err == nil {
			k.Prefixes = append(k.Prefixes, pp)
		}
	}
	k.Created = time.Unix(0, created).UTC()
	return k, nil
}

// APIKeyByHash implements store.PortalStore; revoked keys are not found.
func (db *DB) APIKeyByHash(ctx context.Context, keyHash string) (*store.APIKey, error) {
	k, err := scanAPIKey(db.r.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = ? AND revoked = 0`, keyHash))
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: api key: %w", err)
	}
	return &k, nil
}

// APIKeys implements store.PortalStore.
func (db *DB) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created DESC LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey implements store.PortalStore.
func (db *DB) RevokeAPIKey(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_keys SET revoked = 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Audit implements store.PortalStore.
func (db *DB) Audit(ctx context.Context, actor, action, detail string) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (time, actor, action, detail) VALUES (?,?,?,?)`, time.Now().UnixNano(), actor, action, detail); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditLog implements store.PortalStore, newest first.
func (db *DB) AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	limit = store.PageLimit(limit)
	rows, err := db.r.QueryContext(ctx, `SELECT time, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var a store.AuditEntry
		var t int64
		if err := rows.Scan(&t, &a.Actor, &a.Action, &a.Detail); err != nil {
			return nil, err
		}
		a.Time = time.Unix(0, t).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutSubscription implements store.PortalStore.
func (db *DB) PutSubscription(ctx context.Context, id string, body []byte) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO subscriptions (id, body) VALUES (?,?) ON CONFLICT(id) DO UPDATE SET body = excluded.body`, id, string(body)); err != nil {
		return fmt.Errorf("store: put subscription: %w", err)
	}
	return nil
}

// DeleteSubscription implements store.PortalStore.
func (db *DB) DeleteSubscription(ctx context.Context, id string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete subscription: %w", err)
	}
	return nil
}

// SubscriptionBodies implements store.PortalStore.
func (db *DB) SubscriptionBodies(ctx context.Context) ([][]byte, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT body FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, []byte(b))
	}
	return out, rows.Err()
}
