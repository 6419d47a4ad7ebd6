package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/store"
)

// The portal's own records: admin users and sessions, API keys, the audit
// log and alert subscriptions.

// CreateUser implements store.PortalStore; an existing user's hash is replaced.
func (db *DB) CreateUser(ctx context.Context, name, pwHash string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO portal_users (name, pw_hash, created) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET pw_hash = excluded.pw_hash`, clean(name), pwHash)
	if err != nil {
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UserHash implements store.PortalStore.
func (db *DB) UserHash(ctx context.Context, name string) (string, error) {
	var h string
	if err := db.pool.QueryRow(ctx, `SELECT pw_hash FROM portal_users WHERE name = $1`, clean(name)).Scan(&h); err != nil {
		return "", notFound("user", err)
	}
	return h, nil
}

// CreateAdminSession implements store.PortalStore; expired sessions are
// removed on the way.
func (db *DB) CreateAdminSession(ctx context.Context, s store.AdminSession) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM portal_sessions WHERE expires < now()`); err != nil {
		return fmt.Errorf("store: expire sessions: %w", err)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO portal_sessions (token_hash, user_name, csrf, expires) VALUES ($1, $2, $3, $4)`,
		clean(s.TokenHash), clean(s.User), clean(s.CSRF), s.Expires)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// AdminSession implements store.PortalStore.
func (db *DB) AdminSession(ctx context.Context, tokenHash string, now time.Time) (*store.AdminSession, error) {
	var s store.AdminSession
	err := db.pool.QueryRow(ctx, `SELECT token_hash, user_name, csrf, expires FROM portal_sessions WHERE token_hash = $1 AND expires > $2`, clean(tokenHash), now).
		Scan(&s.TokenHash, &s.User, &s.CSRF, &s.Expires)
	if err != nil {
		return nil, notFound("session", err)
	}
	s.Expires = s.Expires.UTC()
	return &s, nil
}

// DeleteAdminSession implements store.PortalStore.
func (db *DB) DeleteAdminSession(ctx context.Context, tokenHash string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM portal_sessions WHERE token_hash = $1`, clean(tokenHash)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// CreateAPIKey implements store.PortalStore.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	scopes := make([]string, len(k.Scopes))
	for i, s := range k.Scopes {
		scopes[i] = clean(s)
	}
	prefixes := make([]string, len(k.Prefixes))
	for i, p := range k.Prefixes {
		prefixes[i] = p.Masked().String()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys (id, key_hash, name, scopes, prefixes, created) VALUES ($1, $2, $3, $4, $5::cidr[], $6)`,
		clean(k.ID), clean(k.KeyHash), clean(k.Name), scopes, prefixes, k.Created)
	if err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

const apiKeyCols = `id, key_hash, name, scopes, prefixes::text[], created, revoked`

func scanAPIKey(sc pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var prefixes []string
	if err := sc.Scan(&k.ID, &k.KeyHash, &k.Name, &k.Scopes, &prefixes, &k.Created, &k.Revoked); err != nil {
		return k, err
	}
	for _, p := range prefixes {
		if pp, err := netip.ParsePrefix(p); err == nil {
			k.Prefixes = append(k.Prefixes, pp)
		}
	}
	k.Created = k.Created.UTC()
	return k, nil
}

// APIKeyByHash implements store.PortalStore; revoked keys are not found.
func (db *DB) APIKeyByHash(ctx context.Context, keyHash string) (*store.APIKey, error) {
	k, err := scanAPIKey(db.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = $1 AND NOT revoked`, clean(keyHash)))
	if err != nil {
		return nil, notFound("api key", err)
	}
	return &k, nil
}

// APIKeys implements store.PortalStore.
func (db *DB) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created DESC LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, fmt.Errorf("store: api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey implements store.PortalStore.
func (db *DB) RevokeAPIKey(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_keys SET revoked = true WHERE id = $1`, clean(id))
	if err != nil {
		return fmt.Errorf("store: revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// Audit implements store.PortalStore.
func (db *DB) Audit(ctx context.Context, actor, action, detail string) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_log (time, actor, action, detail) VALUES (now(), $1, $2, $3)`, clean(actor), clean(action), clean(detail)); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditLog implements store.PortalStore, newest first.
func (db *DB) AuditLog(ctx context.Context, limit int) ([]store.AuditEntry, error) {
	limit = store.PageLimit(limit)
	rows, err := db.pool.Query(ctx, `SELECT time, actor, action, detail FROM audit_log ORDER BY seq DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		var a store.AuditEntry
		err := r.Scan(&a.Time, &a.Actor, &a.Action, &a.Detail)
		a.Time = a.Time.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}

// PutSubscription implements store.PortalStore.
func (db *DB) PutSubscription(ctx context.Context, id string, body []byte) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO subscriptions (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body`, clean(id), body); err != nil {
		return fmt.Errorf("store: put subscription: %w", err)
	}
	return nil
}

// DeleteSubscription implements store.PortalStore.
func (db *DB) DeleteSubscription(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1`, clean(id)); err != nil {
		return fmt.Errorf("store: delete subscription: %w", err)
	}
	return nil
}

// SubscriptionBodies implements store.PortalStore.
func (db *DB) SubscriptionBodies(ctx context.Context) ([][]byte, error) {
	rows, err := db.pool.Query(ctx, `SELECT body FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions: %w", err)
	}
	return out, nil
}
