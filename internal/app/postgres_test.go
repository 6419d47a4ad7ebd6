package app_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	api := "http://" + r.listeners["http"] + "/api/v1/events?kind=tcp.payload&limit=10"
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", r.listeners["banner"])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /<script>alert(%d)</script> HTTP/1.0\r\n\r\n", i)
		c.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page store.EventPage
		getJSON(t, api, &page)
		if len(page.Events) == 3 {
			if !strings.Contains(page.Events[0].Str("payload"), "<script>") || page.Events[0].Sensor != "t1" {
				t.Fatalf("payload not kept exactly: %+v", page.Events[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d payload events", len(page.Events))
		}
		time.Sleep(50 * time.Millisecond)
	}
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
