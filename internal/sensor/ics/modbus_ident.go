package ics

import (
	"context"
	"slices"

	"github.com/kansoku/kansoku/internal/sensor"
)

// Read Device Identification (FC 43, MEI type 14) read codes and the
// conformity level we claim: basic, regular and extended objects, stream
// and individual access.
const (
	meiDeviceID   = 0x0E
	conformity    = 0x83
	readBasic     = 0x01
	readRegular   = 0x02
	readExtended  = 0x03
	readSpecific  = 0x04
	identMaxBytes = maxPDU - 7 // room for the response header
)

// identify answers FC 17 (report server id) and FC 43/14 (read device
// identification); other MEI types are an illegal function.
func (m *Modbus) identify(ctx context.Context, s *sensor.Session, unitID byte, req []byte) []byte {
	fc := req[0]
	e := m.event(s, "ics.identify", unitID, fc)
	defer s.Emit(ctx, e)
	if fc == 0x11 {
		if len(req) != 1 {
			e.Set("exception", int(exIllegalValue))
			return exception(fc, exIllegalValue)
		}
		out := append([]byte{fc, byte(len(m.sid))}, m.sid...)
		return out
	}
	if len(req) < 2 || req[1] != meiDeviceID {
		e.Set("exception", int(exIllegalFunction))
		if len(req) > 1 {
			e.Set("mei_type", int(req[1]))
		}
		return exception(fc, exIllegalFunction)
	}
	e.Set("mei_type", int(meiDeviceID))
	if len(req) != 4 {
		e.Set("exception", int(exIllegalValue))
		return exception(fc, exIllegalValue)
	}
	code, obj := req[2], req[3]
	e.Set("read_code", int(code)).Set("object", int(obj))
	resp, ex := m.deviceID(code, obj)
	if ex != 0 {
		e.Set("exception", int(ex))
		return exception(fc, ex)
	}
	return resp
}

// deviceID builds the FC 43/14 response or names the exception: 03 for a
// read code outside 1..4, 02 for an individual object that does not exist.
// A stream read from an unknown object restarts at object 0, as the
// specification says.
func (m *Modbus) deviceID(code, obj byte) ([]byte, byte) {
	var ids []byte
	for id := range m.ident {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var hi byte
	switch code {
	case readBasic:
		hi = 0x02
	case readRegular:
		hi = 0x7F
	case readExtended:
		hi = 0xFF
	case readSpecific:
		if _, ok := m.ident[obj]; !ok {
			return nil, exIllegalAddress
		}
		return appendObjects([]byte{0x2B, meiDeviceID, code, conformity, 0, 0, 1}, m.ident, []byte{obj}), 0
	default:
		return nil, exIllegalValue
	}
	lo := byte(0)
	if _, ok := m.ident[obj]; ok && obj <= hi {
		lo = obj
	}
	var sel []byte
	size := 0
	more, next := byte(0), byte(0)
	for _, id := range ids {
		if id < lo || id > hi {
			continue
		}
		n := 2 + len(m.ident[id])
		if size+n > identMaxBytes {
			more, next = 0xFF, id
			break
		}
		size += n
		sel = append(sel, id)
	}
	return appendObjects([]byte{0x2B, meiDeviceID, code, conformity, more, next, byte(len(sel))}, m.ident, sel), 0
}

func appendObjects(out []byte, objs map[byte]string, ids []byte) []byte {
	for _, id := range ids {
		v := objs[id]
		if len(v) > 245 {
			v = v[:245]
		}
		out = append(out, id, byte(len(v)))
		out = append(out, v...)
	}
	return out
}
