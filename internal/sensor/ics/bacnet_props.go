package ics

import (
	"encoding/binary"
	"math"
)

// lookup finds an object: the device (also by the wildcard instance) or a
// point object; nil for the device.
func (b *BACnet) lookup(typ, inst int) (*bobj, bool) {
	if typ == objDevice {
		return nil, inst == b.site.BACnet.DeviceInstance || inst == wildcardInstance
	}
	for i := range b.objs {
		if b.objs[i].typ == typ && b.objs[i].inst == inst {
			return &b.objs[i], true
		}
	}
	return nil, false
}

// engValue is a point object's present value as this source sees it.
func (p *bpacket) engValue(o *bobj) float64 {
	raw := p.v.read(p.b.unit, o.table, o.p.Addr, o.p.width(), nil)
	if o.table == tCoils || o.table == tDiscrete {
		return float64(raw[0])
	}
	var x float64
	switch o.p.Type {
	case "int16":
		x = float64(int16(raw[0]))
	case "uint32":
		x = float64(uint32(raw[0])<<16 | uint32(raw[1]))
	case "float32":
		x = float64(math.Float32frombits(uint32(raw[0])<<16 | uint32(raw[1])))
	default:
		x = float64(raw[0])
	}
	return x / scaleOf(o.p)
}

// deviceProp encodes a property of the device object; ok false means the
// property is unknown. object-list is the one array.
func (p *bpacket) deviceProp(prop uint32, index int64) (out []byte, errCode byte) {
	s := p.b.site
	id := s.Identity
	switch prop {
	case propObjectList:
		n := len(p.b.objs) + 1
		if index == 0 {
			return encUnsigned(nil, uint32(n)), 0
		}
		if index > int64(n) {
			return nil, errInvalidIndex
		}
		for i := -1; i < len(p.b.objs); i++ {
			if index > 0 && int64(i+2) != index {
				continue
			}
			if i < 0 {
				out = encObjectID(out, objectID(objDevice, s.BACnet.DeviceInstance))
			} else {
				out = encObjectID(out, objectID(p.b.objs[i].typ, p.b.objs[i].inst))
			}
		}
		return out, 0
	case propObjectID:
		out = encObjectID(out, objectID(objDevice, s.BACnet.DeviceInstance))
	case propObjectName:
		out = encString(out, s.Facility)
	case propObjectType:
		out = encEnum(out, objDevice)
	case propSystemStatus:
		out = encEnum(out, 0) // operational
	case propVendorName:
		out = encString(out, id.Vendor)
	case propVendorID:
		out = encUnsigned(out, uint32(s.BACnet.VendorID))
	case propModelName:
		out = encString(out, id.ProductName+" "+id.Model)
	case propFirmware:
		out = encString(out, id.Revision)
	case propAppVersion:
		out = encString(out, id.ProductCode+" "+id.Revision)
	case propLocation:
		out = encString(out, s.Location)
	case propDescription:
		out = encString(out, s.BACnet.Description)
	case propProtoVersion:
		out = encUnsigned(out, 1)
	case propProtoRevision:
		out = encUnsigned(out, 14)
	case propMaxAPDU:
		out = encUnsigned(out, 1476)
	case propSegmentation:
		out = encEnum(out, 3)
	case propDatabaseRev:
		out = encUnsigned(out, 3)
	default:
		return nil, errUnknownProperty
	}
	if index >= 0 {
		return nil, errNotArray
	}
	return out, 0
}

// pointProp encodes a property of a point object.
func (p *bpacket) pointProp(o *bobj, prop uint32, index int64) ([]byte, byte) {
	if index >= 0 {
		return nil, errNotArray
	}
	var out []byte
	switch prop {
	case propObjectID:
		out = encObjectID(out, objectID(o.typ, o.inst))
	case propObjectName:
		out = encString(out, o.p.Name)
	case propObjectType:
		out = encEnum(out, byte(o.typ))
	case propPresentValue:
		x := p.engValue(o)
		if o.typ == objBinaryInput || o.typ == objBinaryOutput {
			out = encEnum(out, byte(x))
		} else {
			out = encReal(out, x)
		}
	case propStatusFlags:
		out = append(appTag(out, tagBits, 2), 0x04, 0x00) // 4 flags, all clear
	case propUnits:
		if o.typ == objBinaryInput || o.typ == objBinaryOutput {
			return nil, errUnknownProperty
		}
		out = encEnum(out, 95) // no-units: the name says the unit
	default:
		return nil, errUnknownProperty
	}
	return out, 0
}

// readProperty answers ReadProperty: device properties are an
// identification (ics.identify), point properties a read (ics.read).
func (p *bpacket) readProperty(invoke byte, body []byte) []byte {
	typ, inst, prop, index, _, ok := objectRef(body)
	if !ok {
		p.emit(p.event("ics.malformed").Set("reason", "ReadProperty arguments"))
		return []byte{0x60, invoke, 0x05} // reject: invalid parameter data type
	}
	o, found := p.b.lookup(typ, inst)
	kind := "ics.read"
	if typ == objDevice {
		kind = "ics.identify"
	}
	e := p.event(kind)
	e.Set("function_name", "read_property").Set("object_type", typ).Set("instance", inst).Set("property", int(prop))
	if index >= 0 {
		e.Set("array_index", index)
	}
	defer p.emit(e)
	if !found {
		e.Set("exception", errUnknownObject)
		return bacnetError(invoke, 0x0C, errClassObject, errUnknownObject)
	}
	var val []byte
	var code byte
	if o == nil {
		val, code = p.deviceProp(prop, index)
		inst = p.b.site.BACnet.DeviceInstance
	} else {
		val, code = p.pointProp(o, prop, index)
		if prop == propPresentValue {
			e.Set("values", []float64{p.engValue(o)})
		}
	}
	if code != 0 {
		e.Set("exception", int(code))
		return bacnetError(invoke, 0x0C, errClassProperty, code)
	}
	out := []byte{0x30, invoke, 0x0C}
	out = binary.BigEndian.AppendUint32(append(out, 0x0C), objectID(typ, inst))
	out = ctxUnsigned(out, 1, prop)
	if index >= 0 {
		out = ctxUnsigned(out, 2, uint32(index))
	}
	out = append(out, 0x3E)
	out = append(out, val...)
	return append(out, 0x3F)
}

// writeProperty takes present-value writes to analog values and binary
// outputs that the site lets be written; every attempt is an ics.write.
func (p *bpacket) writeProperty(invoke byte, body []byte) []byte {
	typ, inst, prop, _, rest, ok := objectRef(body)
	e := p.event("ics.write")
	e.Set("severity", "high").Set("function_name", "write_property").Set("accepted", false)
	defer p.emit(e)
	if !ok {
		e.SetText("data", string(body[:min(len(body), 64)]))
		return []byte{0x60, invoke, 0x05}
	}
	e.Set("object_type", typ).Set("instance", inst).Set("property", int(prop))
	open, r, err := nextTag(rest)
	val, _, err2 := nextTag(r)
	if err != nil || err2 != nil || !open.open || open.num != 3 {
		e.SetText("data", string(body[:min(len(body), 64)]))
		return []byte{0x60, invoke, 0x05}
	}
	o, found := p.b.lookup(typ, inst)
	if !found {
		e.Set("exception", errUnknownObject)
		return bacnetError(invoke, 0x0F, errClassObject, errUnknownObject)
	}
	if o == nil || prop != propPresentValue || (o.typ != objAnalogValue && o.typ != objBinaryOutput) || !o.p.Writable {
		e.Set("exception", errWriteDenied)
		return bacnetError(invoke, 0x0F, errClassProperty, errWriteDenied)
	}
	var x float64
	switch {
	case o.typ == objAnalogValue && !val.context && val.num == tagReal && len(val.value) == 4:
		x = float64(math.Float32frombits(binary.BigEndian.Uint32(val.value)))
	case o.typ == objBinaryOutput && !val.context && val.num == tagEnum:
		u, _ := uintOf(val.value)
		x = float64(u)
	default:
		e.Set("exception", errInvalidDataType)
		return bacnetError(invoke, 0x0F, errClassProperty, errInvalidDataType)
	}
	old := p.engValue(o)
	e.Set("old", []float64{old}).Set("new", []float64{x})
	raw := math.Round(x * scaleOf(o.p))
	if o.typ == objBinaryOutput {
		raw = b2f(x != 0)
	}
	if o.p.Type == "int16" && raw < 0 && raw >= math.MinInt16 {
		raw += 1 << 16 // two's complement in the register
	}
	if math.IsNaN(raw) || raw < 0 || raw > math.MaxUint16 || p.b.unit.writable(o.table, o.p.Addr, []uint16{uint16(raw)}) != 0 {
		e.Set("exception", errValueOutOfRange)
		return bacnetError(invoke, 0x0F, errClassProperty, errValueOutOfRange)
	}
	p.v.write(p.b.unit, o.table, o.p.Addr, []uint16{uint16(raw)})
	e.Set("accepted", true)
	return []byte{0x20, invoke, 0x0F} // simple ACK
}
