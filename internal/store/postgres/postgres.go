// Package postgres is the store for sites that run many sensors: one
// PostgreSQL database through a pgx connection pool, embedded migrations,
// and the same semantics as the sqlite store (internal/store/storetest
// holds both to one suite).
//
// Writes are serialised: every insert transaction takes one advisory lock
// first. That costs little (the collector batches events) and keeps two
// promises a pool of concurrent writers would break: event sequence numbers
// become visible in order, so a client paging with a cursor never skips an
// event committed late with a smaller number, and the upserts of derived
// rows (sessions, counters) cannot deadlock against each other.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kansoku/kansoku/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys: one for migrations, one for the event writer.
const (
	lockMigrate int64 = 0x6b616e736f6b7501 // "kansoku" 01
	lockWrite   int64 = 0x6b616e736f6b7502
)

// DB is the PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// Open connects to the database named by dsn (a libpq keyword/value string
// or a postgres:// URL) and applies the migrations it has not applied yet.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, errors.New("store: postgres: the dsn is not a valid connection string (see docs/store.md)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: connect to %s:%d database %s as %s: %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, cfg.ConnConfig.User, err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	return db, nil
}

// migrate applies the embedded migrations in name order, each in its own
// transaction, holding an advisory lock so that two processes starting at
// once do not both apply one.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockMigrate) //nolint:errcheck // the session ends with the connection anyway
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, n).Scan(&done); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if done {
			continue
		}
		body, err := migrations.ReadFile(n)
		if err != nil {
			return fmt.Errorf("migration %s: %w", n, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Simple protocol: a migration is several statements.
			if _, err := tx.Exec(ctx, string(body), pgx.QueryExecModeSimpleProtocol); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, n)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", n, err)
		}
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool exposes the connection pool to tools that read the database
// directly (benchmarks, exports).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// clean makes a string storable in a PostgreSQL text column, which holds
// neither NUL bytes nor invalid UTF-8 (the database encoding is UTF8):
// both become U+FFFD, as encoding/json does for invalid bytes. Attacker
// data must never make an insert fail, or the collector would retry the
// batch forever. Values that must stay byte-exact (credentials) are bytea.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// addr is an address as the text of an inet parameter, "" (NULLIF'd to
// NULL in SQL) for none; IPv4-mapped addresses are stored as IPv4.
func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.Unmap().WithZone("").String()
}

// parseAddr reads host(inet) text back; NULL arrives as "".
func parseAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

// prefix is p as the text of a cidr parameter; an IPv4-mapped IPv6 prefix
// is taken as the IPv4 prefix it names, as the sqlite store does.
func prefix(p netip.Prefix) string {
	return store.CanonicalPrefix(p).String()
}

// notFound maps pgx's no-rows error to store.ErrNotFound and wraps others
// with what failed.
func notFound(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
