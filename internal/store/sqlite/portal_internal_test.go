package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckQueriesUseIndexes keeps the infection check fast at millions of
// events: both of its queries must be index searches, never table scans,
// and the dashboard must read only its counter table.
func TestCheckQueriesUseIndexes(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		q     string
		args  []any
		index string
	}{
		{addressEventsSQL, []any{"127.0.0.1", 0, 10}, "events_src_ip"},
		{addressScansSQL, []any{"127.0.0.1", 0, 10}, "events_scan_dst"},
		{`SELECT key, SUM(n) FROM portal_counts WHERE dim = ? AND day >= ? GROUP BY key ORDER BY 2 DESC, 1 LIMIT ?`, []any{"cred", "2026-01-01", 10}, "PRIMARY KEY"},
	} {
		p := queryPlan(t, db, tc.q, tc.args...)
		if !strings.Contains(p, tc.index) || strings.Contains(p, "SCAN events") {
			t.Errorf("plan for %.60s…: %s (want %s)", tc.q, p, tc.index)
		}
	}
}
