// Package sqlite is the default store: one SQLite file (pure Go driver), WAL
// mode, a single writer connection with batched transactions, a pool of
// readers, and embedded migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kansoku/kansoku/internal/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store.
type DB struct {
	w *sql.DB // one connection: SQLite has one writer anyway
	r *sql.DB
}

var _ store.Store = (*DB)(nil)

// Open opens or creates the database at path and migrates it.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	db := &DB{w: w, r: r}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, explain(err))
	}
	if err := db.fillHostKeys(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, explain(err))
	}
	return db, nil
}

// explain turns SQLite's terse errors about the file system into ones an
// operator can act on.
func explain(err error) error {
	s := err.Error()
	switch {
	case strings.Contains(s, "readonly") || strings.Contains(s, "read-only"):
		return fmt.Errorf("the database or its directory is read-only: %w", err)
	case strings.Contains(s, "disk is full") || strings.Contains(s, "SQLITE_FULL"):
		return fmt.Errorf("the disk is full: %w", err)
	case strings.Contains(s, "unable to open"):
		return fmt.Errorf("cannot create or open the database file (check the data directory's permissions): %w", err)
	}
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		var x int
		err := db.w.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE name = ?`, n).Scan(&x)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		body, _ := migrations.ReadFile(n)
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", n, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, strftime('%s','now'))`, n); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", n, err)
		}
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.w.Close(), db.r.Close())
}

// Writer and Reader expose the pools to packages that add their own tables
// in this database (attacks, hosts, reports); they must use Writer for every
// write so that SQLite's single-writer rule holds.
func (db *DB) Writer() *sql.DB { return db.w }

// Reader is the read pool.
func (db *DB) Reader() *sql.DB { return db.r }
