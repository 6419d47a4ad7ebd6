package sqlite

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/storetest"
)

// TestHostQueriesUseIndexes keeps the portal's host listing an index walk
// at any size: the pages in listing order, one class, one product, one
// finding, one template, a prefix and the next page after a cursor.
func TestHostQueriesUseIndexes(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cur := store.HostCursor{Critical: true, LastSeen: 5, IP: "127.0.0.1", Port: 80, Transport: "tcp"}.Encode()
	// seek is how a next page starts: a search of the index bounded by the
	// cursor, rather than a walk from the start of the index's range.
	const seek = "(crit,last_seen,ip,port,transport)<(?,?,?,?,?)"
	for _, tc := range []struct {
		name   string
		q      store.HostQuery
		index  string
		sorted bool // whether a sort of the matching rows is acceptable
		search string
	}{
		{"listing", store.HostQuery{Limit: 100}, "hosts_rank", false, ""},
		{"next page", store.HostQuery{After: cur, Limit: 100}, "hosts_rank", false, "SEARCH hosts USING INDEX hosts_rank (" + seek + ")"},
		{"class", store.HostQuery{Class: "critical", After: cur, Limit: 100}, "hosts_class", false, "SEARCH hosts USING INDEX hosts_class (class=? AND (last_seen,ip,port,transport)<(?,?,?,?))"},
		{"product", store.HostQuery{Product: "WL-100", Limit: 100}, "hosts_product", true, ""},
		{"prefix", store.HostQuery{Prefix: netip.MustParsePrefix("127.10.0.0/16"), Limit: 100}, "hosts_ip_key", true, ""},
		{"ip", store.HostQuery{IP: netip.MustParseAddr("127.10.0.1"), Limit: 100}, "PRIMARY KEY", true, ""},
		{"finding", store.HostQuery{Finding: "no-authentication", Limit: 100}, "host_findings_rank", false, ""},
		{"finding, next page", store.HostQuery{Finding: "no-authentication", After: cur, Limit: 100}, "host_findings_rank", false, "SEARCH f USING COVERING INDEX host_findings_rank (finding=? AND " + seek + ")"},
		{"finding since", store.HostQuery{Finding: "no-authentication", Since: time.Unix(5, 0), Limit: 100}, "host_findings_rank", false, ""},
		{"finding and class", store.HostQuery{Finding: "no-authentication", Class: "critical", After: cur, Limit: 100}, "host_findings_rank", false, "SEARCH f USING COVERING INDEX host_findings_rank (finding=? AND " + seek + ")"},
		// The page is chosen from the covering index alone; only its rows
		// are joined to hosts (by primary key).
		{"finding in a prefix", store.HostQuery{Finding: "no-authentication", Prefix: netip.MustParsePrefix("127.10.0.0/16"), After: cur, Limit: 100}, "host_findings_prefix", true, "SEARCH f USING COVERING INDEX host_findings_prefix (finding=? AND ip_key>? AND ip_key<?)"},
		{"template", store.HostQuery{Template: "tplA", Limit: 100}, "hosts_template_rank", false, ""},
		{"template, next page", store.HostQuery{Template: "tplA", After: cur, Limit: 100}, "hosts_template_rank", false, "SEARCH hosts USING INDEX hosts_template_rank (template=? AND " + seek + ")"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args, err := hostsSQL(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			p := queryPlan(t, db, q, args...)
			if !strings.Contains(p, tc.index) || strings.Contains(p, "SCAN hosts") && !strings.Contains(p, "USING INDEX") ||
				!tc.sorted && strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, tc.search) {
				t.Errorf("plan: %s (want %s %s)", p, tc.index, tc.search)
			}
		})
	}
}

func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

// TestHostKeysFilledOnOpen covers hosts stored before ip_key existed:
// reopening the database makes them findable by prefix.
func TestHostKeysFilledOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e := event.New("scan", "scan.result")
	e.Time, e.DstIP, e.DstPort = time.Now(), netip.MustParseAddr("127.33.0.1"), 80
	if _, err := db.InsertEvents(ctx, []*event.Event{e}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE hosts SET ip_key = x''`); err != nil {
		t.Fatal(err)
	}
	in := store.HostQuery{Prefix: netip.MustParsePrefix("127.33.0.0/16")}
	if hs, _ := db.Hosts(ctx, in); len(hs) != 0 {
		t.Fatalf("found without a key: %+v", hs)
	}
	db.Close()
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if hs, err := db.Hosts(ctx, in); err != nil || len(hs) != 1 {
		t.Fatalf("after reopen: %+v %v", hs, err)
	}
}

// TestHostFindingsFilledOnUpgrade covers a database from before
// host_findings: migration 013 fills it from the hosts rows, and rows
// stored before ip_key existed get their key there too, so finding and
// finding-in-a-prefix queries see every stored host.
func TestHostFindingsFilledOnUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.UpgradeHostFindings(t, db, func() {
		// Back to the schema before 013, with keys from before 012.
		downgradeRank(t, db)
		execAll(t, db, `DROP TABLE host_findings`, `DROP INDEX hosts_template_rank`,
			`CREATE INDEX hosts_template ON hosts(template) WHERE template != ''`,
			`DELETE FROM schema_migrations WHERE name = 'migrations/013_host_findings.sql'`, `UPDATE hosts SET ip_key = x''`)
		db.Close()
	}, func() store.Store {
		again, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { again.Close() })
		return again
	})
}

// downgradeRank takes the database back to the schema before migration
// 014: the rank as an expression, no crit column.
func downgradeRank(t *testing.T, db *DB) {
	t.Helper()
	execAll(t, db, `DROP INDEX hosts_rank`, `DROP INDEX hosts_template_rank`, `ALTER TABLE hosts DROP COLUMN crit`,
		`CREATE INDEX hosts_rank ON hosts((class = 'critical'), last_seen)`,
		`CREATE INDEX hosts_template_rank ON hosts(template, (class = 'critical'), last_seen) WHERE template != ''`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/014_hosts_crit.sql'`)
}

// execAll runs schema changes that take a database back to an older version.
func execAll(t *testing.T, db *DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.w.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestHostRankFilledOnUpgrade covers hosts stored before crit existed:
// migration 014 fills it, so critical hosts still come first page by page,
// and the deriver keeps it in step when a host's class changes.
func TestHostRankFilledOnUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour)
	result := func(ip string, at time.Duration, class string) *event.Event {
		e := event.New("scan", "scan.result")
		e.Time, e.Transport, e.DstIP, e.DstPort = t0.Add(at), "tcp", netip.MustParseAddr(ip), 80
		e.Set("classification", map[string]any{"product": "WL-100", "class": class})
		e.Set("findings", []any{"no-authentication"}).Set("template", "tplA")
		return e
	}
	insert := func(db *DB, evs ...*event.Event) {
		if _, err := db.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	insert(db, result("127.35.0.1", 0, "critical"), result("127.35.0.2", 2*time.Second, ""), result("127.35.0.3", time.Second, "critical"))
	downgradeRank(t, db)
	db.Close()
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// pages lists q one host a page, following the cursors.
	pages := func(q store.HostQuery) string {
		var got []string
		for q.Limit = 1; len(got) < 10; {
			hs, err := db.Hosts(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			if len(hs) == 0 {
				break
			}
			got = append(got, hs[0].IP.String())
			q.After = hs[0].Cursor
		}
		return strings.Join(got, " ")
	}
	queries := []store.HostQuery{{}, {Template: "tplA"}, {Finding: "no-authentication"}}
	for _, step := range []struct {
		name string
		evs  []*event.Event
		want string
	}{
		{"after upgrade", nil, "127.35.0.3 127.35.0.1 127.35.0.2"},
		{"after a class change", []*event.Event{result("127.35.0.2", 3*time.Second, "critical"), result("127.35.0.3", 4*time.Second, "")},
			"127.35.0.2 127.35.0.1 127.35.0.3"},
	} {
		if len(step.evs) > 0 {
			insert(db, step.evs...)
		}
		for _, q := range queries {
			if got := pages(q); got != step.want {
				t.Errorf("%s, %+v: %s, want %s", step.name, q, got, step.want)
			}
		}
	}
}
