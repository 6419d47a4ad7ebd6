package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// testSessionBoundsFromEventTimes: two collectors store the batches of one
// session in parallel, so its later events may be stored before its connect
// event, in one transaction or several. The session's start and end come
// from the event times, whatever the order they are stored in.
func testSessionBoundsFromEventTimes(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		batches [][]int // indexes into the session's events, in store order
	}{
		{"in order", [][]int{{0, 1, 2, 3}}},
		{"connect stored last", [][]int{{1, 2, 3}, {0}}},
		{"closed first, connect last", [][]int{{3}, {2, 1}, {0}}},
		{"reversed in one batch", [][]int{{3, 2, 1, 0}}},
		{"login before connect in one batch", [][]int{{1, 0}, {3, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "B-" + tc.name
			evs := []*event.Event{
				Event("session.connect", id, t0, "127.0.0.9"),
				Event("login.failed", id, t0.Add(2*time.Second), "127.0.0.9").SetText("username", "root").SetText("password", "x"),
				Event("command.input", id, t0.Add(3*time.Second), "127.0.0.9").SetText("input", "id"),
				Event("session.closed", id, t0.Add(9*time.Second), "127.0.0.9").Set("duration", 9.0),
			}
			for _, b := range tc.batches {
				var batch []*event.Event
				for _, i := range b {
					batch = append(batch, evs[i])
				}
				if _, err := db.InsertEvents(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			s, err := db.Session(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Start.Equal(t0) {
				t.Errorf("start %s, want the connect time %s", s.Start, t0)
			}
			if s.End == nil || !s.End.Equal(t0.Add(9*time.Second)) {
				t.Errorf("end %v, want %s", s.End, t0.Add(9*time.Second))
			}
			if s.Commands != 1 {
				t.Errorf("commands %d, want 1", s.Commands)
			}
		})
	}
}
