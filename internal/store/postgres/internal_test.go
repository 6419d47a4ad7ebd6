package postgres

import (
	"context"
	"io/fs"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
)

func openInternal(t *testing.T) (*DB, string) {
	t.Helper()
	srv := pgtest.Shared(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// TestMigrationsMatchSQLite keeps the two drivers' schema versions in step:
// the same migration names, each applied once, and a second Open applies
// nothing.
func TestMigrationsMatchSQLite(t *testing.T) {
	db, dsn := openInternal(t)
	ctx := context.Background()
	sqliteNames, err := filepath.Glob("../sqlite/migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range sqliteNames {
		want = append(want, "migrations/"+filepath.Base(n))
	}
	ours, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(want)
	if strings.Join(ours, " ") != strings.Join(want, " ") {
		t.Fatalf("postgres migrations %v, sqlite %v", ours, want)
	}
	again, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	again.Close()
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("applied %d migrations (%v), want %d", n, err, len(want))
	}
}

// TestQueriesCanUseIndexes checks that the portal's hot queries have an
// index to use. The tables are empty, so sequential scans are disabled to
// see whether the planner has an index at all.
func TestQueriesCanUseIndexes(t *testing.T) {
	db, _ := openInternal(t)
	ctx := context.Background()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	hostQ := func(q store.HostQuery) (string, []any) {
		s, args, err := hostsSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		return s, args
	}
	cur := store.HostCursor{Critical: true, LastSeen: 5, IP: "127.0.0.1", Port: 80, Transport: "tcp"}.Encode()
	for _, tc := range []struct {
		name  string
		q     string
		args  []any
		index string
	}{
		{"address events", addressEventsSQL, []any{"127.0.0.1", "2026-01-01", 10}, "events_src_ip"},
		{"address scans", addressScansSQL, []any{"127.0.0.1", "2026-01-01", 10}, "events_scan_dst"},
		{"hosts listing", "", nil, "hosts_rank"},
		{"hosts next page", "", nil, "hosts_rank"},
		{"hosts prefix", "", nil, "hosts_pkey"},
		{"hosts finding", "", nil, "hosts_findings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := tc.q, tc.args
			switch tc.name {
			case "hosts listing":
				q, args = hostQ(store.HostQuery{Limit: 100})
			case "hosts next page":
				q, args = hostQ(store.HostQuery{After: cur, Limit: 100})
			case "hosts prefix":
				q, args = hostQ(store.HostQuery{Prefix: netip.MustParsePrefix("127.10.0.0/16")})
			case "hosts finding":
				q, args = hostQ(store.HostQuery{Finding: "no-authentication"})
			}
			rows, err := conn.Query(ctx, "EXPLAIN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, strings.TrimSpace(line))
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, tc.index) {
				t.Errorf("plan: %s (want %s)", p, tc.index)
			}
		})
	}
}

// TestBadDSNDoesNotLeakThePassword: the error names what is wrong, and an
// operator pasting it into a ticket does not paste the password.
func TestBadDSNDoesNotLeakThePassword(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{"postgres://u:s3cret@127.0.0.1:notaport/db", "host=127.0.0.1 password=s3cret port=x"} {
		_, err := Open(ctx, dsn)
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "dsn") {
			t.Errorf("%s: %v", dsn, err)
		}
	}
	// A server that is not there: a connect error naming the address.
	srv := pgtest.Shared(t)
	_, err := Open(ctx, "host="+srv.Dir+" port=1 user=nobody password=s3cret dbname=x connect_timeout=5")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "connect") {
		t.Errorf("no server: %v", err)
	}
}
