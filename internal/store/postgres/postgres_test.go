package postgres_test

import (
	"context"
	"os"
	"testing"

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
