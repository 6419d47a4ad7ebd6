package ics

import (
	"math"
	"time"
)

// Register tables, in Modbus's order.
const (
	tCoils = iota
	tDiscrete
	tInput
	tHolding
)

var tableNames = [4]string{"coils", "discrete_inputs", "input_registers", "holding_registers"}

// cell is one address of a table: the point it belongs to and, for a
// 32-bit point, which word (0 high, 1 low).
type cell struct {
	p    *Point
	word int
}

// unitMap is one unit's tables, dense from address 0 to the highest
// mapped one (maps are small; a lookup is an index).
type unitMap struct {
	id     byte
	tables [4][]cell
}

func newUnitMap(u Unit) *unitMap {
	m := &unitMap{id: byte(u.ID)}
	for t, pts := range [4][]Point{u.Coils, u.Discrete, u.Input, u.Holding} {
		hi := 0
		for _, p := range pts {
			hi = max(hi, p.Addr+p.width())
		}
		cells := make([]cell, hi)
		for i := range pts {
			p := &pts[i]
			for w := range p.width() {
				cells[p.Addr+w] = cell{p: p, word: w}
			}
		}
		m.tables[t] = cells
	}
	return m
}

// mapped reports whether every address in [addr, addr+n) exists.
func (m *unitMap) mapped(t int, addr, n int) bool {
	cells := m.tables[t]
	if addr+n > len(cells) {
		return false
	}
	for _, c := range cells[addr : addr+n] {
		if c.p == nil {
			return false
		}
	}
	return true
}

// regKey names one address of one table of one unit.
type regKey struct {
	unit  byte
	table uint8
	addr  uint16
}

// drive is a variable a write set moving in one session.
type drive struct {
	from, to, rate float64
	at             time.Time
}

func (d drive) value(t time.Time) float64 {
	if d.rate <= 0 {
		return d.to
	}
	step := d.rate * t.Sub(d.at).Seconds()
	if d.to > d.from {
		return math.Min(d.to, d.from+step)
	}
	return math.Max(d.to, d.from-step)
}

// maxWritten bounds what one session may change (a write past it is still
// answered and recorded, and forgets the oldest change's value).
const maxWritten = 4096

// view is one session's picture of the site: the shared process plus the
// session's own writes, which nobody else sees.
type view struct {
	proc    *Process
	written map[regKey]uint16
	drives  map[int]drive
	now     func() time.Time
}

func newView(p *Process, now func() time.Time) *view {
	return &view{proc: p, now: now}
}

// values is the process as this session sees it now.
func (v *view) values(t time.Time) []float64 {
	if len(v.drives) == 0 {
		return v.proc.Snapshot(t)
	}
	over := make(map[int]float64, len(v.drives))
	for i, d := range v.drives {
		over[i] = d.value(t)
	}
	return v.proc.With(t, over)
}

// pointValue is the engineering value of a point (before scaling).
func (v *view) pointValue(p *Point, vals []float64) float64 {
	if p.Source != "" {
		return vals[v.proc.index[p.Source]]
	}
	return p.Value
}

func scaleOf(p *Point) float64 {
	if p.Scale == 0 {
		return 1
	}
	return p.Scale
}

// word encodes the register at c.
func encodeWord(c cell, x float64) uint16 {
	x *= scaleOf(c.p)
	switch c.p.Type {
	case "int16":
		return uint16(int16(clamp(math.Round(x), math.MinInt16, math.MaxInt16)))
	case "uint32":
		u := uint32(clamp(math.Round(x), 0, math.MaxUint32))
		if c.word == 0 {
			return uint16(u >> 16)
		}
		return uint16(u)
	case "float32":
		u := math.Float32bits(float32(x))
		if c.word == 0 {
			return uint16(u >> 16)
		}
		return uint16(u)
	}
	return uint16(clamp(math.Round(x), 0, math.MaxUint16))
}

func clamp(x, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, x)) }

// read fills out with n registers (or bits, as 0/1) of a table; the range
// must be mapped.
func (v *view) read(u *unitMap, t int, addr, n int, out []uint16) []uint16 {
	now := v.now()
	var vals []float64
	for i := range n {
		c := u.tables[t][addr+i]
		if w, ok := v.written[regKey{u.id, uint8(t), uint16(addr + i)}]; ok {
			out = append(out, w)
			continue
		}
		if vals == nil && c.p.Source != "" {
			vals = v.values(now)
		}
		x := v.pointValue(c.p, vals)
		if t == tCoils || t == tDiscrete {
			out = append(out, uint16(b2f(x != 0)))
			continue
		}
		out = append(out, encodeWord(c, x))
	}
	return out
}

// writable reports whether every address of [addr, addr+len(vals)) takes a
// write of that value: 0 if so, else the Modbus exception (02 a read-only
// or unmapped address, 03 a value above the point's limit).
func (u *unitMap) writable(t int, addr int, vals []uint16) byte {
	if !u.mapped(t, addr, len(vals)) {
		return exIllegalAddress
	}
	for i, x := range vals {
		c := u.tables[t][addr+i]
		if !c.p.Writable {
			return exIllegalAddress
		}
		if c.p.Max != nil && float64(x) > *c.p.Max {
			return exIllegalValue
		}
	}
	return 0
}

// write stores a checked write in the session and starts what it drives.
func (v *view) write(u *unitMap, t int, addr int, vals []uint16) {
	now := v.now()
	if v.written == nil {
		v.written = map[regKey]uint16{}
	}
	for i, x := range vals {
		k := regKey{u.id, uint8(t), uint16(addr + i)}
		if _, ok := v.written[k]; !ok && len(v.written) >= maxWritten {
			for old := range v.written {
				delete(v.written, old)
				break
			}
		}
		v.written[k] = x
		c := u.tables[t][addr+i]
		if c.p.Drives == "" {
			continue
		}
		idx := v.proc.index[c.p.Drives]
		target := float64(x) / scaleOf(c.p)
		if t == tCoils {
			target = b2f(x != 0)
		}
		from := v.values(now)[idx]
		if v.drives == nil {
			v.drives = map[int]drive{}
		}
		v.drives[idx] = drive{from: from, to: target, rate: c.p.Rate, at: now}
	}
}
