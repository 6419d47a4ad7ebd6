package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// TestFullDiskIsAClearError fills a small tmpfs: the insert fails with an
// error that says the disk is full, nothing hangs, and what was stored
// before is intact.
func TestFullDiskIsAClearError(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root, as CI runs): %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	ctx := context.Background()
	path := filepath.Join(dir, "k.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first := []*event.Event{ev("session.connect", "FIRST", time.Now(), "127.0.0.2")}
	if _, err := db.InsertEvents(ctx, first); err != nil {
		t.Fatal(err)
	}
	var ferr error
	for i := 0; i < 1000 && ferr == nil; i++ {
		var batch []*event.Event
		for j := 0; j < 100; j++ {
			batch = append(batch, ev("command.input", fmt.Sprintf("S%d", i), time.Now(), "127.0.0.2").SetText("input", strings.Repeat("x", 512)))
		}
		_, ferr = db.InsertEvents(ctx, batch)
	}
	if ferr == nil || !strings.Contains(ferr.Error(), "disk is full") {
		t.Fatalf("filling the disk gave %v, want a 'disk is full' error", ferr)
	}
	db.Close()
	// The database is not corrupt: it opens and the early event is there.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen after full disk: %v", err)
	}
	defer db.Close()
	p, err := db.Events(ctx, store.EventQuery{Session: "FIRST"})
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("early event after full disk: %d %v", len(p.Events), err)
	}
}
