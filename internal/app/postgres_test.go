package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
)

// TestServeWithPostgres: with store.driver postgres, connections to a
// sensor become events in PostgreSQL, visible through the API, closing
// events are stored at shutdown, and a second serve on the same database
// (migrations already applied) still serves them.
func TestServeWithPostgres(t *testing.T) {
	srv := pgtest.Shared(t)
	dsn := srv.URL(srv.NewDatabase(t))
	cfg := testConfig(t, fmt.Sprintf("store:\n  driver: postgres\n  dsn: %s\n", dsn))
	r := start(t, cfg)
	sendPayloads(t, r, 3)
	r.stop(t)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "kansoku.db")); err == nil {
		t.Fatal("serve created a sqlite database although the driver is postgres")
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.Events(ctx, store.EventQuery{Kind: "session.closed", Limit: 100})
	if err != nil || len(page.Events) != 3 {
		t.Fatalf("session.closed stored: %d %v", len(page.Events), err)
	}
	var total, distinct int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM events`).Scan(&total, &distinct); err != nil || total != distinct || total < 9 {
		t.Fatalf("events stored %d, distinct %d (%v)", total, distinct, err)
	}

	r = start(t, testConfig(t, fmt.Sprintf("store:\n  driver: postgres\n  dsn: %s\n", dsn)))
	var again store.EventPage
	if getJSON(t, "http://"+r.listeners["http"]+"/api/v1/events?kind=tcp.payload&limit=10", &again); len(again.Events) != 3 {
		t.Fatalf("after restart the API serves %d payload events, want 3", len(again.Events))
	}
}
