package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres"
	"github.com/kansoku/kansoku/internal/store/postgres/pgtest"
	"github.com/kansoku/kansoku/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// open returns a store on a fresh database of the shared server.
func open(t *testing.T) *postgres.DB {
	t.Helper()
	srv := pgtest.Shared(t)
	db, err := postgres.Open(context.Background(), srv.DSN(srv.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance holds the PostgreSQL store to the behaviour every driver shares.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// BenchmarkInsertBatch stores batches of 1000 new login events, the
// collector's default batch, on the throwaway server (fsync off).
func BenchmarkInsertBatch(b *testing.B) {
	srv := pgtest.Shared(b)
	db, err := postgres.Open(context.Background(), srv.DSN(srv.NewDatabase(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]*event.Event, 1000)
		for j := range batch {
			batch[j] = storetest.Event("login.failed", fmt.Sprintf("S%d", j%50), t0, "127.0.0.5").SetText("username", "root").SetText("password", "admin")
		}
		if _, err := db.InsertEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
