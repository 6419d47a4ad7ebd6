package icsreport

import (
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func ev(kind, site, proto, src string, at time.Time) *event.Event {
	e := event.New("ics", kind)
	e.Time, e.Sensor, e.SrcIP = at, "s1", netip.MustParseAddr(src)
	return e.Set("site", site).Set("protocol", proto)
}

func TestBuild(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	evs := []*event.Event{
		ev("ics.read", "river", "modbus", "192.0.2.1", t0),
		ev("ics.read", "river", "s7", "192.0.2.1", t0.Add(time.Minute)),
		ev("ics.identify", "river", "modbus", "192.0.2.2", t0.Add(2*time.Minute)),
		ev("ics.write", "river", "bacnet", "192.0.2.3", t0.Add(3*time.Minute)).Set("object_type", 2).Set("instance", 1).Set("property", 85).
			Set("old", []any{100.0}).Set("new", []any{40.0}).Set("accepted", true),
		ev("ics.write", "river", "modbus", "192.0.2.3", t0.Add(4*time.Minute)).Set("unit", 1).Set("table", "coils").Set("address", 0).
			Set("new", []int{1}).Set("accepted", false),
		event.New("telnet", "session.connect"),
	}
	r := Build(evs)
	if r.Events != 5 || len(r.Sites) != 1 {
		t.Fatalf("%+v", r)
	}
	s := r.Sites[0]
	if s.Reads != 2 || s.Identifies != 1 || s.WriteCount != 2 || len(s.Sources) != 3 {
		t.Fatalf("site %+v", s)
	}
	if src := s.Sources[0]; src.IP.String() != "192.0.2.3" || src.Writes != 2 {
		t.Errorf("writer first: %+v", src)
	}
	if src := s.Sources[1]; len(src.Protocols) != 2 || src.First != t0 || src.Last != t0.Add(time.Minute) {
		t.Errorf("reader %+v", src)
	}
	w := s.Writes
	if len(w) != 2 || w[0].Target != "unit 1 coils 0" || w[0].Old != "" || w[0].New != "1" || w[0].Accepted ||
		w[1].Target != "object 2:1 property 85" || w[1].Old != "100" || w[1].New != "40" || !w[1].Accepted {
		t.Errorf("writes %+v", w)
	}
}
