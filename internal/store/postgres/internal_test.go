package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
	"github.com/kansoku/kansoku/internal/store/storetest"
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
		hosts *store.HostQuery // instead of q and args
		index string
		// ordered: the index gives the rows in the listing order, so
		// that a page reads a page of rows (checked with sorts disabled,
		// as the empty tables' statistics favour any plan).
		ordered bool
		// seek is the cursor as an index condition: a next page starts
		// at the cursor, not at the start of the index's range.
		seek string
	}{
		{"address events", addressEventsSQL, []any{"127.0.0.1", "2026-01-01", 10}, nil, "events_src_ip", false, ""},
		{"address scans", addressScansSQL, []any{"127.0.0.1", "2026-01-01", 10}, nil, "events_scan_dst", false, ""},
		{"hosts listing", "", nil, &store.HostQuery{Limit: 100}, "hosts_rank", true, ""},
		{"hosts next page", "", nil, &store.HostQuery{After: cur, Limit: 100}, "hosts_rank", true, "Index Cond: (ROW((class = 'critical'::text), last_seen, ip, port, transport) < ROW("},
		{"hosts prefix", "", nil, &store.HostQuery{Prefix: netip.MustParsePrefix("127.10.0.0/16")}, "hosts_pkey", false, ""},
		{"hosts finding", "", nil, &store.HostQuery{Finding: "no-authentication", Limit: 100}, "host_findings_rank", true, ""},
		{"hosts finding next page", "", nil, &store.HostQuery{Finding: "no-authentication", After: cur, Limit: 100}, "host_findings_rank", true, "Index Cond: ((finding = 'no-authentication'::text) AND (ROW(crit, last_seen, ip, port, transport) < ROW("},
		{"hosts finding in a prefix", "", nil, &store.HostQuery{Finding: "no-authentication", Prefix: netip.MustParsePrefix("127.10.0.0/16"), Limit: 100}, "(ip >= '127.10.0.0/16'::inet) AND (ip <= '127.10.255.255'::inet)", false, ""},
		{"hosts template", "", nil, &store.HostQuery{Template: "tplA", Limit: 100}, "hosts_template_rank", true, ""},
		{"hosts template next page", "", nil, &store.HostQuery{Template: "tplA", After: cur, Limit: 100}, "hosts_template_rank", true, "Index Cond: ((template = 'tplA'::text) AND (ROW((class = 'critical'::text), last_seen, ip, port, transport) < ROW("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := tc.q, tc.args
			if tc.hosts != nil {
				q, args = hostQ(*tc.hosts)
			}
			if _, err := conn.Exec(ctx, fmt.Sprintf("SET enable_sort = %t", !tc.ordered)); err != nil {
				t.Fatal(err)
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
			if !strings.Contains(p, tc.index) || tc.ordered && strings.Contains(p, "Sort") || !strings.Contains(p, tc.seek) {
				t.Errorf("plan: %s (want %s %s)", p, tc.index, tc.seek)
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

// TestHostFindingsFilledOnUpgrade covers a database from before
// host_findings: migration 013 fills it from the hosts rows.
func TestHostFindingsFilledOnUpgrade(t *testing.T) {
	db, dsn := openInternal(t)
	ctx := context.Background()
	storetest.UpgradeHostFindings(t, db, func() {
		for _, s := range []string{`DROP TABLE host_findings`, `DROP INDEX hosts_template_rank`,
			`CREATE INDEX hosts_template ON hosts(template) WHERE template <> ''`,
			`CREATE INDEX hosts_findings ON hosts USING gin (findings jsonb_path_ops)`,
			`DELETE FROM schema_migrations WHERE name = 'migrations/013_host_findings.sql'`} {
			if _, err := db.pool.Exec(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}, func() store.Store {
		again, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { again.Close() })
		return again
	})
}
