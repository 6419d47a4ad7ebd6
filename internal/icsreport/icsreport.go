// Package icsreport summarises what the infrastructure honeypot saw, per
// site: who read its process values, who asked what it is, and who wrote
// what (old and new values). It works on ics.* events as the store returns
// them, so the portal shows it without a table of its own.
package icsreport

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Report is the summary of a window of events.
type Report struct {
	Sites []*Site `json:"sites"`
	// Events is how many events the report was built from.
	Events int `json:"events"`
}

// Site is one site profile's activity (the events' site field).
type Site struct {
	Site       string    `json:"site"`
	Sensors    []string  `json:"sensors"`
	Reads      int       `json:"reads"`
	Identifies int       `json:"identifies"`
	WriteCount int       `json:"write_count"`
	Sources    []*Source `json:"sources"`
	// Writes are the newest first, at most MaxWrites.
	Writes []Write `json:"writes"`
}

// Source is one address's activity at a site.
type Source struct {
	IP         netip.Addr `json:"ip"`
	Protocols  []string   `json:"protocols"`
	Reads      int        `json:"reads"`
	Identifies int        `json:"identifies"`
	Writes     int        `json:"writes"`
	First      time.Time  `json:"first_seen"`
	Last       time.Time  `json:"last_seen"`
}

// Write is one write attempt.
type Write struct {
	Time     time.Time  `json:"time"`
	IP       netip.Addr `json:"ip"`
	Sensor   string     `json:"sensor"`
	Session  string     `json:"session,omitempty"`
	Protocol string     `json:"protocol"`
	Function string     `json:"function"`
	Target   string     `json:"target"`
	Old      string     `json:"old"`
	New      string     `json:"new"`
	Accepted bool       `json:"accepted"`
}

// MaxWrites bounds the writes listed per site.
const MaxWrites = 200

// Build summarises events (any order; non-ics events are skipped).
func Build(evs []*event.Event) *Report {
	r := &Report{}
	sites := map[string]*Site{}
	sources := map[string]map[netip.Addr]*Source{}
	sensors := map[string]map[string]bool{}
	protos := map[string]map[netip.Addr]map[string]bool{}
	for _, e := range evs {
		if e.Honeypot != "ics" || !strings.HasPrefix(e.Kind, "ics.") {
			continue
		}
		name := e.Str("site")
		if name == "" {
			name = "?"
		}
		s := sites[name]
		if s == nil {
			s = &Site{Site: name}
			sites[name], sources[name], sensors[name], protos[name] = s, map[netip.Addr]*Source{}, map[string]bool{}, map[netip.Addr]map[string]bool{}
		}
		r.Events++
		sensors[name][e.Sensor] = true
		src := sources[name][e.SrcIP]
		if src == nil {
			src = &Source{IP: e.SrcIP, First: e.Time, Last: e.Time}
			sources[name][e.SrcIP], protos[name][e.SrcIP] = src, map[string]bool{}
		}
		if e.Time.Before(src.First) {
			src.First = e.Time
		}
		if e.Time.After(src.Last) {
			src.Last = e.Time
		}
		if p := e.Str("protocol"); p != "" {
			protos[name][e.SrcIP][p] = true
		}
		switch e.Kind {
		case "ics.read":
			s.Reads++
			src.Reads++
		case "ics.identify":
			s.Identifies++
			src.Identifies++
		case "ics.write":
			s.WriteCount++
			src.Writes++
			accepted, _ := e.Data["accepted"].(bool)
			s.Writes = append(s.Writes, Write{Time: e.Time, IP: e.SrcIP, Sensor: e.Sensor, Session: e.Session, Protocol: e.Str("protocol"),
				Function: function(e), Target: Target(e), Old: values(e.Data["old"]), New: values(e.Data["new"]), Accepted: accepted})
		}
	}
	for name, s := range sites {
		for n := range sensors[name] {
			s.Sensors = append(s.Sensors, n)
		}
		sort.Strings(s.Sensors)
		for ip, src := range sources[name] {
			for p := range protos[name][ip] {
				src.Protocols = append(src.Protocols, p)
			}
			sort.Strings(src.Protocols)
			s.Sources = append(s.Sources, src)
		}
		sort.Slice(s.Sources, func(i, j int) bool {
			a, b := s.Sources[i], s.Sources[j]
			if a.Writes != b.Writes {
				return a.Writes > b.Writes
			}
			if a.Reads+a.Identifies != b.Reads+b.Identifies {
				return a.Reads+a.Identifies > b.Reads+b.Identifies
			}
			return a.IP.Less(b.IP)
		})
		sort.SliceStable(s.Writes, func(i, j int) bool { return s.Writes[i].Time.After(s.Writes[j].Time) })
		if len(s.Writes) > MaxWrites {
			s.Writes = s.Writes[:MaxWrites]
		}
		r.Sites = append(r.Sites, s)
	}
	sort.Slice(r.Sites, func(i, j int) bool { return r.Sites[i].Site < r.Sites[j].Site })
	return r
}

func function(e *event.Event) string {
	if f := e.Str("function_name"); f != "" {
		return f
	}
	if _, ok := e.Data["function"]; ok {
		return fmt.Sprintf("function %d", e.Int("function"))
	}
	return ""
}

// Target names what a write aimed at, in the protocol's own terms.
func Target(e *event.Event) string {
	switch e.Str("protocol") {
	case "modbus":
		return fmt.Sprintf("unit %d %s %d", e.Int("unit"), e.Str("table"), e.Int("address"))
	case "s7":
		if a := e.Str("area"); a != "" {
			return fmt.Sprintf("%s byte %d", a, e.Int("address"))
		}
		return "PLC"
	case "bacnet":
		return fmt.Sprintf("object %d:%d property %d", e.Int("object_type"), e.Int("instance"), e.Int("property"))
	}
	return ""
}

// values renders a list of numbers as stored (ints in memory, float64
// after JSON), "" when absent.
func values(v any) string {
	var parts []string
	switch x := v.(type) {
	case []int:
		for _, n := range x {
			parts = append(parts, fmt.Sprint(n))
		}
	case []float64:
		for _, n := range x {
			parts = append(parts, fmt.Sprint(n))
		}
	case []any:
		for _, n := range x {
			parts = append(parts, fmt.Sprint(n))
		}
	default:
		return ""
	}
	if len(parts) > 16 {
		parts = append(parts[:16], "…")
	}
	return strings.Join(parts, " ")
}
