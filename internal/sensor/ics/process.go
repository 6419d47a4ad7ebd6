package ics

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"sync"
	"time"
)

// Process computes a site's process values at any time. The weather (rain
// events, clouds) is pseudo-random from the installation's seed and the
// hour, so values are a pure function of time: every protocol and the web
// UI of one site show the same level at the same moment, and a scanner
// that comes back an hour later sees a plausible change, not noise. Only
// the on/off switches (pumps, alarms) keep state, for their hysteresis.
type Process struct {
	site  *Site
	index map[string]int

	mu     sync.Mutex
	at     int64 // unix second of cached
	cached []float64
	state  []bool // hysteresis of threshold variables
}

// NewProcess returns the process of an instantiated site.
func NewProcess(s *Site) *Process {
	p := &Process{site: s, index: map[string]int{}, at: -1, state: make([]bool, len(s.Process))}
	for i, v := range s.Process {
		p.index[v.Name] = i
	}
	return p
}

// Snapshot returns every variable at t (cached per second: the loggers
// update no faster). The slice must not be modified.
func (p *Process) Snapshot(t time.Time) []float64 {
	sec := t.Unix()
	p.mu.Lock()
	defer p.mu.Unlock()
	if sec == p.at {
		return p.cached
	}
	vals := p.eval(t, nil, true)
	p.at, p.cached = sec, vals
	return vals
}

// With returns the variables at t with some replaced (a session's writes):
// what depends on a replaced variable follows it.
func (p *Process) With(t time.Time, over map[int]float64) []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eval(t, over, false)
}

// Value is one variable of the current snapshot by name (0 if unknown).
func (p *Process) Value(t time.Time, name string) float64 {
	i, ok := p.index[name]
	if !ok {
		return 0
	}
	return p.Snapshot(t)[i]
}

// eval computes all variables in order; commit records hysteresis state
// (only the shared snapshot does, never a session's view).
func (p *Process) eval(t time.Time, over map[int]float64, commit bool) []float64 {
	vals := make([]float64, len(p.site.Process))
	for i, v := range p.site.Process {
		if x, ok := over[i]; ok {
			vals[i] = x
			continue
		}
		var of float64
		if v.Of != "" {
			of = vals[p.index[v.Of]]
		}
		switch v.Model {
		case "rain":
			vals[i] = p.rain10(t)
		case "rain_total":
			vals[i] = p.rainToday(t)
		case "river":
			vals[i] = p.river(t, v)
		case "tide":
			// Semidiurnal tide: two highs a lunar day.
			h := float64(t.Unix()) / 3600
			vals[i] = v.Base + v.Daily*math.Sin(2*math.Pi*h/12.42) + 0.01*p.noise("tide", t.Unix()/60)
		case "battery":
			vals[i] = v.Base + v.Daily*math.Max(0, p.sunSin(t)) + 0.02*p.noise("bat", t.Unix()/60)
		case "temperature":
			vals[i] = v.Base + v.Daily*math.Sin(2*math.Pi*(p.localHour(t)-9)/24) + 0.2*p.noise("temp", t.Unix()/300)
		case "threshold":
			on := p.state[i]
			switch {
			case of >= v.On:
				on = true
			case of <= v.Off:
				on = false
			}
			if commit {
				p.state[i] = on
			}
			vals[i] = b2f(on)
		case "gate":
			x := (of - v.OpenAt) / (v.FullAt - v.OpenAt) * 100
			x = math.Min(100, math.Max(0, x))
			if v.Step > 0 {
				x = math.Floor(x/v.Step) * v.Step
			}
			vals[i] = x
		case "follow":
			vals[i] = of * v.Factor
		case "irradiance":
			vals[i] = p.irradiance(t)
		case "solar_power":
			vals[i] = solarPower(of, v.Capacity)
		case "solar_energy":
			vals[i] = p.energyToday(t, v.Capacity)
		case "panel_temperature":
			vals[i] = v.Base + of*0.028 + 0.3*p.noise("panel", t.Unix()/300)
		}
	}
	return vals
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hash01 is a deterministic uniform number in [0,1) for (what, n).
func (p *Process) hash01(what string, n int64) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], p.site.seed)
	binary.BigEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	h.Write([]byte(what))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// noise is in [-1, 1).
func (p *Process) noise(what string, n int64) float64 { return 2*p.hash01(what, n) - 1 }

func (p *Process) localHour(t time.Time) float64 {
	l := t.In(p.site.Zone())
	return float64(l.Hour()) + float64(l.Minute())/60 + float64(l.Second())/3600
}

// rainRate is the rain in mm/h during unix hour h: about one period in
// six is wet, and a wet hour rains between a drizzle and a downpour.
func (p *Process) rainRate(h int64) float64 {
	if p.hash01("wx", floorDiv(h, 6)) >= 0.18 {
		return 0
	}
	r := p.hash01("rain", h)
	if r < 0.15 {
		return 0
	}
	return math.Round(r*r*18*2) / 2 // a tipping bucket counts 0.5 mm
}

// rain10 is the rain of the last 10 minutes (mm, 0.5 mm buckets).
func (p *Process) rain10(t time.Time) float64 {
	rate := p.rainRate(floorDiv(t.Unix(), 3600))
	if rate == 0 {
		return 0
	}
	x := rate / 6 * (0.5 + p.hash01("r10", floorDiv(t.Unix(), 600)))
	return math.Round(x*2) / 2
}

// rainToday sums the rain since local midnight.
func (p *Process) rainToday(t time.Time) float64 {
	l := t.In(p.site.Zone())
	mid := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, l.Location()).Unix()
	sum := 0.0
	for h := mid / 3600; h < t.Unix()/3600; h++ {
		sum += p.rainRate(h)
	}
	frac := float64(t.Unix()%3600) / 3600
	return math.Round((sum+p.rainRate(t.Unix()/3600)*frac)*2) / 2
}

// river is a water level: base, a small daily swing, and the response to
// the rain of the last two days (a rise peaking four hours after the rain,
// then a slow recession).
func (p *Process) river(t time.Time, v Var) float64 {
	now := t.Unix()
	level := v.Base + v.Daily*math.Sin(2*math.Pi*(p.localHour(t)-16)/24)
	const tau = 4 * 3600.0
	for k := int64(0); k < 48; k++ {
		h := now/3600 - k
		r := p.rainRate(h)
		if r == 0 {
			continue
		}
		d := float64(now - h*3600)
		level += v.Gain * r * (d / tau) * math.Exp(1-d/tau)
	}
	return level + 0.003*p.noise("lvl", now/60)
}

// sunSin is the sine of the sun's elevation at the site (negative at night).
func (p *Process) sunSin(t time.Time) float64 {
	u := t.UTC()
	day := float64(u.YearDay())
	decl := 23.44 * math.Pi / 180 * math.Sin(2*math.Pi*(284+day)/365)
	solar := float64(u.Hour()) + float64(u.Minute())/60 + float64(u.Second())/3600 + p.site.Longitude/15
	ha := (solar - 12) * 15 * math.Pi / 180
	lat := p.site.Latitude * math.Pi / 180
	return math.Sin(lat)*math.Sin(decl) + math.Cos(lat)*math.Cos(decl)*math.Cos(ha)
}

// irradiance in W/m² on the panels: clear sky from the sun's elevation,
// dimmed by clouds that change every 10 minutes and by rain.
func (p *Process) irradiance(t time.Time) float64 {
	s := p.sunSin(t)
	if s <= 0 {
		return 0
	}
	clear := 1050 * math.Pow(s, 1.15)
	h := floorDiv(t.Unix(), 3600)
	cloud := 0.55 + 0.45*p.hash01("cloud", floorDiv(t.Unix(), 600))
	if p.hash01("wx", floorDiv(h, 6)) < 0.18 {
		cloud = 0.08 + 0.2*p.hash01("cloud", floorDiv(t.Unix(), 600))
	}
	return math.Round(clear * cloud)
}

func solarPower(irr, capacity float64) float64 {
	return math.Min(capacity, capacity*irr/1000*0.86)
}

// energyToday integrates the output since local midnight in 10-minute steps.
func (p *Process) energyToday(t time.Time, capacity float64) float64 {
	l := t.In(p.site.Zone())
	mid := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, l.Location())
	sum := 0.0
	for s := mid; s.Before(t); s = s.Add(10 * time.Minute) {
		step := math.Min(600, t.Sub(s).Seconds())
		sum += solarPower(p.irradiance(s), capacity) * step / 3600
	}
	return sum
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
