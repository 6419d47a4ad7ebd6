package ics

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/event"
)

// szlRecords builds the data of a Read SZL answer.
func szlRecords(id, index uint16, recLen int, recs [][]byte) []byte {
	out := []byte{byte(id >> 8), byte(id), byte(index >> 8), byte(index), byte(recLen >> 8), byte(recLen), 0, byte(len(recs))}
	for _, r := range recs {
		out = append(out, r...)
	}
	return out
}

// padded returns s cut or filled with pad to n bytes.
func padded(s string, n int, pad byte) []byte {
	b := []byte(s)
	if len(b) > n {
		b = b[:n]
	}
	for len(b) < n {
		b = append(b, pad)
	}
	return b
}

// version parses "V4.4.0" into its three numbers.
func version(s string) [3]byte {
	var v [3]byte
	for i, f := range strings.SplitN(strings.TrimPrefix(s, "V"), ".", 3) {
		n, _ := strconv.Atoi(f)
		v[i] = byte(n)
	}
	return v
}

// szl11 is SZL 0x0011 (module identification): the order number of the
// module and of its hardware, and the firmware version.
func szl11(s *Site) []byte {
	v := version(s.S7.Version)
	rec := func(idx uint16, mlfb string, ausbg, ausbe uint16) []byte {
		r := []byte{byte(idx >> 8), byte(idx)}
		r = append(r, padded(mlfb, 20, ' ')...)
		return append(r, 0, 0, byte(ausbg>>8), byte(ausbg), byte(ausbe>>8), byte(ausbe))
	}
	return szlRecords(0x0011, 0, 28, [][]byte{
		rec(0x0001, s.S7.OrderNumber, 0, 5),
		rec(0x0006, s.S7.OrderNumber, 0, 5),
		rec(0x0007, "", 'V'<<8|uint16(v[0]), uint16(v[1])<<8|uint16(v[2])),
	})
}

// szl1c is SZL 0x001C (component identification): system name, module
// name, plant identification (the facility), copyright, serial number,
// module type and location designation.
func szl1c(s *Site) []byte {
	var recs [][]byte
	for _, f := range []struct {
		idx  uint16
		text string
	}{{1, s.S7.SystemName}, {2, s.S7.Module}, {3, s.FacilityASCII}, {4, "Original Siemens Equipment"},
		{5, s.Serial}, {7, s.S7.ModuleType}, {0x0B, asciiOr(s.Location, "")}} {
		recs = append(recs, append([]byte{byte(f.idx >> 8), byte(f.idx)}, padded(f.text, 32, 0)...))
	}
	return szlRecords(0x001C, 0, 34, recs)
}

// userdata answers Read SZL (CPU functions, subfunction 1); anything else
// in userdata gets the "not implemented" error.
func (c *s7conn) userdata(ctx context.Context, param, data []byte) {
	if len(param) < 8 || param[0] != 0x00 || param[1] != 0x01 || param[2] != 0x12 {
		c.reply(rosUser, 0, []byte{0x00, 0x01, 0x12, 0x08, 0x12, 0x80, 0, 0, 0, 0, 0x81, 0x04}, []byte{0x0A, 0, 0, 0})
		return
	}
	group, sub, seq := param[5]&0x0F, param[6], param[7]
	head := []byte{0x00, 0x01, 0x12, 0x08, 0x12, 0x80 | group, sub, seq, 0, 0}
	e := c.event("ics.identify", "userdata")
	defer c.s.Emit(ctx, e)
	e.Set("group", int(group)).Set("subfunction", int(sub))
	if group != 4 || sub != 1 || len(data) < 8 {
		e.Set("error", 0x8104)
		c.reply(rosUser, 0, append(head, 0x81, 0x04), []byte{0x0A, 0, 0, 0})
		return
	}
	id, index := binary.BigEndian.Uint16(data[4:]), binary.BigEndian.Uint16(data[6:])
	e.Set("function_name", "read_szl").Set("szl_id", int(id)).Set("szl_index", int(index))
	var recs []byte
	switch id {
	case 0x0011, 0x0111:
		recs = c.ident.szl11
	case 0x001C, 0x011C:
		recs = c.ident.szl1c
	default:
		// 0xD401: the requested SZL is not available.
		e.Set("error", 0xD401)
		c.reply(rosUser, 0, append(head, 0xD4, 0x01), []byte{0x0A, 0, 0, 0})
		return
	}
	c.reply(rosUser, 0, append(head, 0, 0), append([]byte{0xFF, 0x09, byte(len(recs) >> 8), byte(len(recs))}, recs...))
}

// s7item is one Read/Write Var item (S7ANY addressing).
type s7item struct {
	tsize, area byte
	count, db   int
	byteOff     int
	bit         int
}

var tsizeBytes = map[byte]int{0x01: 1, 0x02: 1, 0x03: 1, 0x04: 2, 0x05: 2, 0x06: 4, 0x07: 4, 0x08: 4}

func parseItems(param []byte) ([]s7item, bool) {
	if len(param) < 2 {
		return nil, false
	}
	n := int(param[1])
	p := param[2:]
	if n < 1 || n > 20 || len(p) != 12*n {
		return nil, false
	}
	items := make([]s7item, n)
	for i := range items {
		q := p[12*i:]
		if q[0] != 0x12 || q[1] != 0x0A || q[2] != 0x10 {
			return nil, false
		}
		addr := int(q[9])<<16 | int(q[10])<<8 | int(q[11])
		items[i] = s7item{tsize: q[3], count: int(binary.BigEndian.Uint16(q[4:])), db: int(binary.BigEndian.Uint16(q[6:])),
			area: q[8], byteOff: addr >> 3, bit: addr & 7}
	}
	return items, true
}

// size is the item's length in bytes, or 0 if its type is not supported.
func (it s7item) size() int {
	if it.tsize == 0x01 {
		if it.count != 1 {
			return 0
		}
		return 1
	}
	return tsizeBytes[it.tsize] * it.count
}

func areaName(a byte, db int) string {
	switch a {
	case areaI:
		return "I"
	case areaQ:
		return "Q"
	case areaM:
		return "M"
	case areaDB:
		return fmt.Sprintf("DB%d", db)
	}
	return fmt.Sprintf("area_0x%02x", a)
}

// bitsTable maps a bit area to its Modbus table.
func bitsTable(a byte) int {
	if a == areaI {
		return tDiscrete
	}
	return tCoils
}

// load reads n bytes of an area at off, or names the item error.
func (c *s7conn) load(a byte, db, off, n int) ([]byte, byte) {
	switch {
	case a == areaDB && (db == 1 || db == 2):
		t := tInput
		if db == 2 {
			t = tHolding
		}
		first, last := off/2, (off+n+1)/2
		if !c.unit.mapped(t, first, last-first) {
			return nil, itemAddr
		}
		var b []byte
		for _, w := range c.v.read(c.unit, t, first, last-first, nil) {
			b = binary.BigEndian.AppendUint16(b, w)
		}
		return b[off-2*first : off-2*first+n], itemOK
	case a == areaI || a == areaQ:
		t := bitsTable(a)
		bits := len(c.unit.tables[t])
		if off+n > (bits+7)/8 {
			return nil, itemAddr
		}
		b := make([]byte, n)
		for i := off * 8; i < (off+n)*8 && i < bits; i++ {
			if c.unit.tables[t][i].p == nil {
				continue
			}
			if c.v.read(c.unit, t, i, 1, nil)[0] != 0 {
				b[i/8-off] |= 1 << (i % 8)
			}
		}
		return b, itemOK
	case a == areaM:
		if off+n > mBytes {
			return nil, itemAddr
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = c.flags[off+i]
		}
		return b, itemOK
	}
	return nil, itemNone
}

func (c *s7conn) readVar(ctx context.Context, param, _ []byte) {
	items, ok := parseItems(param)
	if !ok {
		c.reply(rosAck, 0x8500, param[:1], nil) // 0x8500: error in PDU structure
		return
	}
	data := []byte{}
	for i, it := range items {
		e := c.event("ics.read", "read_var")
		e.Set("area", areaName(it.area, it.db)).Set("address", it.byteOff).Set("count", it.count).Set("transport_size", int(it.tsize))
		n := it.size()
		var b []byte
		code := byte(0x06) // data type not supported
		if n > 0 && n <= pduSize-18 {
			b, code = c.load(it.area, it.db, it.byteOff, n)
		}
		if code == itemOK && it.tsize == 0x01 {
			b = []byte{b[0] >> it.bit & 1}
		}
		if code != itemOK {
			e.Set("exception", int(code))
			data = append(data, code, 0, 0, 0)
		} else {
			e.Set("values", bytesInts(b))
			ts, bits := byte(0x04), len(b)*8
			if it.tsize == 0x01 {
				ts, bits = 0x03, 1
			}
			data = append(data, itemOK, ts, byte(bits>>8), byte(bits))
			data = append(data, b...)
			if len(b)%2 == 1 && i < len(items)-1 {
				data = append(data, 0)
			}
		}
		c.s.Emit(ctx, e)
	}
	c.reply(rosAck, 0, []byte{0x04, byte(len(items))}, data)
}

func bytesInts(b []byte) []int {
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(x)
	}
	return out
}

// store writes b to an area at off in this session, or names the item
// error: the process image of DB1 and I is read-only, DB2 and Q take what
// the site's map lets be written.
func (c *s7conn) store(a byte, db, off int, b []byte) byte {
	switch {
	case a == areaDB && db == 2:
		first, last := off/2, (off+len(b)+1)/2
		if !c.unit.mapped(tHolding, first, last-first) {
			return itemAddr
		}
		cur := c.v.read(c.unit, tHolding, first, last-first, nil)
		raw := make([]byte, 0, 2*len(cur))
		for _, w := range cur {
			raw = binary.BigEndian.AppendUint16(raw, w)
		}
		copy(raw[off-2*first:], b)
		words := make([]uint16, len(cur))
		for i := range words {
			words[i] = binary.BigEndian.Uint16(raw[2*i:])
		}
		if c.unit.writable(tHolding, first, words) != 0 {
			return itemDeny
		}
		c.v.write(c.unit, tHolding, first, words)
		return itemOK
	case a == areaQ:
		bits := len(c.unit.tables[tCoils])
		if off+len(b) > (bits+7)/8 {
			return itemAddr
		}
		var idx []int
		var vals []uint16
		for i := off * 8; i < (off+len(b))*8 && i < bits; i++ {
			if c.unit.tables[tCoils][i].p == nil {
				continue
			}
			x := uint16(b[i/8-off] >> (i % 8) & 1)
			if c.v.read(c.unit, tCoils, i, 1, nil)[0] == x {
				continue
			}
			if c.unit.writable(tCoils, i, []uint16{x}) != 0 {
				return itemDeny
			}
			idx, vals = append(idx, i), append(vals, x)
		}
		for i := range idx {
			c.v.write(c.unit, tCoils, idx[i], vals[i:i+1])
		}
		return itemOK
	case a == areaM:
		if off+len(b) > mBytes {
			return itemAddr
		}
		if c.flags == nil {
			c.flags = map[int]byte{}
		}
		for i, x := range b {
			c.flags[off+i] = x
		}
		return itemOK
	case a == areaDB && db == 1, a == areaI:
		return itemDeny
	}
	return itemNone
}

// writeVar answers Write Var; every item is an ics.write event with the
// bytes before and after.
func (c *s7conn) writeVar(ctx context.Context, param, data []byte) {
	items, ok := parseItems(param)
	if !ok {
		c.reply(rosAck, 0x8500, param[:1], nil)
		return
	}
	codes := make([]byte, 0, len(items))
	for i, it := range items {
		e := c.event("ics.write", "write_var")
		e.Set("severity", "high").Set("area", areaName(it.area, it.db)).Set("address", it.byteOff).Set("count", it.count).Set("transport_size", int(it.tsize))
		code := byte(0x07) // data type inconsistent
		if len(data) >= 4 {
			ts, ln := data[1], int(binary.BigEndian.Uint16(data[2:]))
			n := ln
			if ts == 0x04 {
				n = (ln + 7) / 8
			}
			if n <= len(data)-4 {
				val := data[4 : 4+n]
				e.Set("new", bytesInts(val))
				n0 := it.size()
				if it.tsize == 0x01 && n == 1 {
					code = c.writeBit(e, it, val[0]&1)
				} else if n0 > 0 && n0 == n {
					if old, oc := c.load(it.area, it.db, it.byteOff, n); oc == itemOK {
						e.Set("old", bytesInts(old))
					}
					code = c.store(it.area, it.db, it.byteOff, val)
				}
				data = data[4+n:]
				if n%2 == 1 && i < len(items)-1 && len(data) > 0 {
					data = data[1:]
				}
			}
		}
		e.Set("accepted", code == itemOK)
		if code != itemOK {
			e.Set("exception", int(code))
		}
		c.s.Emit(ctx, e)
		codes = append(codes, code)
	}
	c.reply(rosAck, 0, []byte{0x05, byte(len(items))}, codes)
}

// writeBit sets one bit: read the byte, change the bit, store the byte.
func (c *s7conn) writeBit(e interface {
	Set(string, any) *event.Event
}, it s7item, bit byte) byte {
	old, code := c.load(it.area, it.db, it.byteOff, 1)
	if code != itemOK {
		return code
	}
	e.Set("old", []int{int(old[0] >> it.bit & 1)})
	b := old[0]&^(1<<it.bit) | bit<<it.bit
	return c.store(it.area, it.db, it.byteOff, []byte{b})
}
