package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/store/storetest"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance holds the SQLite store to the behaviour every driver shares.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

var ev = storetest.Event

func TestUnwritableDirectoryIsAClearError(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A data directory path that runs through a regular file cannot be
	// created even by root, which is how CI runs.
	_, err := sqlite.Open(context.Background(), filepath.Join(blocker, "sub", "k.db"))
	if err == nil {
		t.Fatal("opened a database under a regular file")
	}
	if !strings.Contains(err.Error(), "store:") {
		t.Fatalf("error does not say what failed: %v", err)
	}
}

// TestReopenKeepsData: the file is the store; closing and opening again
// (migrations already applied) finds what was stored.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertEvents(ctx, []*event.Event{ev("session.connect", "R1", time.Now(), "127.0.0.2")}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Session(ctx, "R1"); err != nil {
		t.Fatalf("session after reopen: %v", err)
	}
}

func BenchmarkInsertBatch(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]*event.Event, 1000)
		for j := range batch {
			batch[j] = ev("login.failed", "S", t0, "127.0.0.5").SetText("username", "root").SetText("password", "admin")
		}
		if _, err := db.InsertEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
