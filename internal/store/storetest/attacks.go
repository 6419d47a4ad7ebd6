package storetest

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func attackEvent(kind, id, sensor, victim, proto string, start, last time.Time, packets int, pps float64) *event.Event {
	e := event.New("amp", kind)
	e.Time, e.Sensor, e.Transport = last, sensor, "udp"
	e.SrcIP = netip.MustParseAddr(victim)
	e.Set("attack_id", id).Set("victim_ip", victim).Set("protocol", proto).Set("port", 10123).
		Set("start", start.Format(time.RFC3339Nano)).Set("end", last.Format(time.RFC3339Nano)).
		Set("packets", packets).Set("request_bytes", packets*8).Set("reply_bytes", packets*468).Set("peak_pps", pps)
	return e
}

func testAttacksMergeAcrossSensors(t *testing.T, db store.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 4, 10, 0, 0, 0, time.UTC)
	evs := []*event.Event{
		attackEvent("amp.attack.start", "a1", "tokyo", "127.0.5.5", "ntp", t0, t0.Add(time.Second), 100, 100),
		attackEvent("amp.attack.start", "b1", "osaka", "127.0.5.5", "ntp", t0.Add(5*time.Minute), t0.Add(5*time.Minute), 100, 80),
		attackEvent("amp.attack.update", "a1", "tokyo", "127.0.5.5", "ntp", t0, t0.Add(10*time.Minute), 5000, 120),
		// Same victim, other protocol: another attack.
		attackEvent("amp.attack.start", "c1", "tokyo", "127.0.5.5", "dns", t0, t0.Add(time.Second), 100, 50),
		// Same victim and protocol but a day later: another attack.
		attackEvent("amp.attack.start", "d1", "tokyo", "127.0.5.5", "ntp", t0.Add(24*time.Hour), t0.Add(24*time.Hour), 100, 50),
		attackEvent("amp.attack.end", "a1", "tokyo", "127.0.5.5", "ntp", t0, t0.Add(20*time.Minute), 9000, 120),
		attackEvent("amp.attack.end", "b1", "osaka", "127.0.5.5", "ntp", t0.Add(5*time.Minute), t0.Add(15*time.Minute), 3000, 80),
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// A redelivered update changes nothing (cumulative figures, idempotent insert).
	if _, err := db.InsertEvents(ctx, evs[2:3]); err != nil {
		t.Fatal(err)
	}
	all, err := db.MergedAttacks(ctx, store.AttackQuery{})
	if err != nil || len(all) != 3 {
		t.Fatalf("attacks: %d %v", len(all), err)
	}
	// Newest first: the day-later attack was stored last.
	if all[0].ID != "d1" || all[0].Ended {
		t.Fatalf("attack order: %+v", all)
	}
	got, err := db.MergedAttacks(ctx, store.AttackQuery{Protocol: "ntp", Sensor: "osaka"})
	if err != nil || len(got) != 1 {
		t.Fatalf("merged: %+v %v", got, err)
	}
	a := got[0]
	if len(a.Sensors) != 2 || a.Sensors[0] != "osaka" || a.Sensors[1] != "tokyo" || a.Packets != 12000 || !a.Ended ||
		!a.Start.Equal(t0) || !a.Last.Equal(t0.Add(20*time.Minute)) || a.PeakPPS != 200 {
		t.Fatalf("merged attack: %+v", a)
	}
	if a.ID != "a1" || a.Victim != netip.MustParseAddr("127.0.5.5") || len(a.Ports) != 1 || a.Ports[0] != 10123 || a.ReplyBytes != 12000*468 || a.RequestBytes != 12000*8 {
		t.Fatalf("merged attack fields: %+v", a)
	}
	if got, _ := db.MergedAttacks(ctx, store.AttackQuery{Victim: netip.MustParsePrefix("127.0.5.0/24")}); len(got) != 3 {
		t.Fatalf("prefix filter: %d", len(got))
	}
	if got, _ := db.MergedAttacks(ctx, store.AttackQuery{Victim: netip.MustParsePrefix("127.0.5.5/32")}); len(got) != 3 {
		t.Fatalf("single address filter: %d", len(got))
	}
	if got, _ := db.MergedAttacks(ctx, store.AttackQuery{Victim: netip.MustParsePrefix("127.0.6.0/24")}); len(got) != 0 {
		t.Fatalf("other prefix: %d", len(got))
	}
	if got, _ := db.MergedAttacks(ctx, store.AttackQuery{Since: t0.Add(time.Hour)}); len(got) != 1 || got[0].ID != "d1" {
		t.Fatalf("since: %+v", got)
	}
	// Pages continue after the cursor.
	first, err := db.MergedAttacks(ctx, store.AttackQuery{Limit: 2})
	if err != nil || len(first) != 2 {
		t.Fatalf("first page: %+v %v", first, err)
	}
	rest, err := db.MergedAttacks(ctx, store.AttackQuery{Limit: 2, After: first[1].Cursor})
	if err != nil || len(rest) != 1 || rest[0].ID == first[0].ID || rest[0].ID == first[1].ID {
		t.Fatalf("next page: %+v %v", rest, err)
	}
	if _, err := db.MergedAttacks(ctx, store.AttackQuery{After: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}
