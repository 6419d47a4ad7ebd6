package store

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(int) int
		in   []int
		want []int
	}{
		{"page", PageLimit, []int{-1, 0, 1, 1000, 1001}, []int{100, 100, 1, 1000, 100}},
		{"hosts", HostLimit, []int{0, 5000, 10000, 10001}, []int{1000, 5000, 10000, 1000}},
		{"address events", AddressEventLimit, []int{0, 7, 1000, 1001}, []int{200, 7, 1000, 200}},
		{"dashboard top", DashboardTop, []int{0, 3, 100, 101}, []int{10, 3, 100, 10}},
	} {
		for i, n := range tc.in {
			if got := tc.f(n); got != tc.want[i] {
				t.Errorf("%s(%d) = %d, want %d", tc.name, n, got, tc.want[i])
			}
		}
	}
}

func TestListBounds(t *testing.T) {
	after, limit, err := ListBounds(ListQuery{After: EncodeCursor(42), Limit: 5})
	if after != 42 || limit != 5 || err != nil {
		t.Errorf("got %d %d %v", after, limit, err)
	}
	if after, limit, err = ListBounds(ListQuery{}); after != 0 || limit != 100 || err != nil {
		t.Errorf("first page: got %d %d %v", after, limit, err)
	}
	if _, _, err = ListBounds(ListQuery{After: "x"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestEventConditions(t *testing.T) {
	since := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	render := func(q EventQuery) (string, error) {
		var conds []string
		err := EventConditions(q, func(col, op string, v any) { conds = append(conds, fmt.Sprintf("%s %s %v", col, op, v)) })
		return strings.Join(conds, "; "), err
	}
	for _, tc := range []struct {
		name string
		q    EventQuery
		want string
	}{
		{"none", EventQuery{Limit: 5}, ""},
		{"all", EventQuery{Since: since, Until: since.Add(time.Hour), Sensor: "s1", Honeypot: "ssh", Kind: "login.failed",
			SrcIP: netip.MustParseAddr("127.0.0.9"), Session: "x", After: EncodeCursor(9)},
			"time >= 2026-01-02 00:00:00 +0000 UTC; time < 2026-01-02 01:00:00 +0000 UTC; sensor = s1; honeypot = ssh; kind = login.failed; src_ip = 127.0.0.9; session = x; seq < 9"},
		{"ascending", EventQuery{After: EncodeCursor(9), Ascending: true}, "seq > 9"},
	} {
		got, err := render(tc.q)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v\nwant %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := render(EventQuery{After: "%%"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestNewestFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(id string, min int) *event.Event {
		return &event.Event{ID: id, Time: t0.Add(time.Duration(min) * time.Minute)}
	}
	// Two queries' results, each newest first; a and c tie on time.
	got := NewestFirst([]*event.Event{ev("a", 5), ev("b", 1), ev("c", 5), ev("d", 3)}, 3)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, "") != "acd" {
		t.Errorf("got %v, want a c d", ids)
	}
}
