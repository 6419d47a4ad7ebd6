package ics

import (
	"math"
	"testing"
	"time"
)

func runtimeFor(t *testing.T, id string) *Process {
	t.Helper()
	s, err := LoadSite(id)
	if err != nil {
		t.Fatal(err)
	}
	return NewProcess(s.Instantiate([]byte("process-test"), "", ""))
}

// TestRiverLevel walks a river station through thirty days in 10-minute
// steps: the level stays in its band, moves smoothly, and rises after rain.
func TestRiverLevel(t *testing.T) {
	p := runtimeFor(t, "river")
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	lvl, rain := p.index["level"], p.index["rain10"]
	prev := math.NaN()
	rained, rose := 0, 0
	minL, maxL := math.Inf(1), math.Inf(-1)
	for i := 0; i < 30*144; i++ {
		at := start.Add(time.Duration(i) * 10 * time.Minute)
		v := p.Snapshot(at)
		l := v[lvl]
		minL, maxL = math.Min(minL, l), math.Max(maxL, l)
		if !math.IsNaN(prev) && math.Abs(l-prev) > 0.15 {
			t.Fatalf("level jumps %.3f -> %.3f at %s", prev, l, at)
		}
		prev = l
		if v[rain] > 0 {
			rained++
			later := p.Snapshot(at.Add(4 * time.Hour))[lvl]
			if later > l {
				rose++
			}
		}
	}
	if minL < 1.2 || maxL > 6 {
		t.Errorf("level range %.2f..%.2f m", minL, maxL)
	}
	if rained == 0 || float64(rose) < 0.6*float64(rained) {
		t.Errorf("%d rainy steps, level higher 4 h later after %d", rained, rose)
	}
	if maxL-minL < 0.1 {
		t.Errorf("level barely moves: %.2f..%.2f", minL, maxL)
	}
}

// TestSolarFollowsSun: no output at night, output at noon on most days,
// energy only grows through a day.
func TestSolarFollowsSun(t *testing.T) {
	p := runtimeFor(t, "solar")
	zone := p.site.Zone()
	pw, en := p.index["power"], p.index["energy"]
	sunny := 0
	for d := 0; d < 10; d++ {
		day := time.Date(2026, 5, 1+d, 0, 0, 0, 0, zone)
		if v := p.Snapshot(day.Add(2 * time.Hour)); v[pw] != 0 {
			t.Errorf("power %.1f kW at 02:00", v[pw])
		}
		noon := p.Snapshot(day.Add(12 * time.Hour))
		if noon[pw] > 10 {
			sunny++
		}
		if noon[pw] > 49.5 {
			t.Errorf("power %.1f kW above the plant's capacity", noon[pw])
		}
		last := -1.0
		for h := 0; h < 24; h++ {
			e := p.Snapshot(day.Add(time.Duration(h)*time.Hour + 30*time.Minute))[en]
			if e < last {
				t.Fatalf("energy falls %.2f -> %.2f on day %d", last, e, d)
			}
			last = e
		}
		if last < 5 || last > 49.5*14 {
			t.Errorf("day %d energy %.1f kWh", d, last)
		}
	}
	if sunny < 5 {
		t.Errorf("only %d of 10 noons produce over 10 kW", sunny)
	}
}

// TestGateFollowsLevel: the gate opens with high water and pumps run.
func TestGateFollowsLevel(t *testing.T) {
	p := runtimeFor(t, "gate")
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	up, gate, pump := p.index["upstream"], p.index["gate"], p.index["pump1"]
	opened, pumped := 0, 0
	for i := 0; i < 14*144; i++ {
		v := p.Snapshot(start.Add(time.Duration(i) * 10 * time.Minute))
		if v[up] < 2.3 && v[gate] != 0 || v[up] > 3.4 && v[gate] != 100 {
			t.Fatalf("gate %.0f%% at upstream %.2f m", v[gate], v[up])
		}
		if v[up] >= 2.6 && v[pump] != 1 || v[up] <= 2.4 && v[pump] != 0 {
			t.Fatalf("pump %v at upstream %.2f m", v[pump], v[up])
		}
		if v[gate] > 0 {
			opened++
		}
		pumped += int(v[pump])
	}
	if opened == 0 || pumped == 0 || opened > 10*144 {
		t.Errorf("in two weeks the gate was open %d and a pump ran %d of %d steps", opened, pumped, 14*144)
	}
}

// TestSameSeedSameValues: two processes of one installation agree (the
// protocols and the web UI of a site show the same values), another
// installation differs.
func TestSameSeedSameValues(t *testing.T) {
	s, _ := LoadSite("river")
	at := time.Date(2026, 7, 3, 5, 0, 0, 0, time.UTC)
	a := NewProcess(s.Instantiate([]byte("a"), "", "")).Snapshot(at)
	b := NewProcess(s.Instantiate([]byte("a"), "", "")).Snapshot(at)
	differ := false
	for d := 0; d < 30 && !differ; d++ {
		x := NewProcess(s.Instantiate([]byte("a"), "", "")).Snapshot(at.AddDate(0, 0, d))
		y := NewProcess(s.Instantiate([]byte("c"), "", "")).Snapshot(at.AddDate(0, 0, d))
		differ = x[0] != y[0] || x[2] != y[2]
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("variable %d: %v vs %v", i, a[i], b[i])
		}
	}
	if !differ {
		t.Error("two installations have the same weather")
	}
}
