package ics

import (
	"encoding/binary"
	"errors"
	"math"
)

// BACnet application tags.
const (
	tagNull     = 0
	tagBool     = 1
	tagUnsigned = 2
	tagReal     = 4
	tagString   = 7
	tagBits     = 8
	tagEnum     = 9
	tagObjectID = 12
)

// BACnet object types and properties this device knows.
const (
	objAnalogInput  = 0
	objAnalogValue  = 2
	objBinaryInput  = 3
	objBinaryOutput = 4
	objDevice       = 8

	propAppVersion     = 12
	propDescription    = 28
	propFirmware       = 44
	propLocation       = 58
	propMaxAPDU        = 62
	propModelName      = 70
	propObjectID       = 75
	propObjectList     = 76
	propObjectName     = 77
	propObjectType     = 79
	propPresentValue   = 85
	propProtoVersion   = 98
	propSegmentation   = 107
	propStatusFlags    = 111
	propSystemStatus   = 112
	propUnits          = 117
	propVendorID       = 120
	propVendorName     = 121
	propProtoRevision  = 139
	propDatabaseRev    = 155
	wildcardInstance   = 0x3FFFFF
	maxBACnetString    = 200
	errClassObject     = 1
	errClassProperty   = 2
	errUnknownObject   = 31
	errUnknownProperty = 32
	errNotArray        = 50
	errWriteDenied     = 40
	errInvalidIndex    = 42
	errValueOutOfRange = 37
	errInvalidDataType = 9
)

func objectID(typ, instance int) uint32 { return uint32(typ)<<22 | uint32(instance)&wildcardInstance }

// appTag appends an application-tagged value's header.
func appTag(b []byte, tag byte, n int) []byte {
	if n < 5 {
		return append(b, tag<<4|byte(n))
	}
	return append(b, tag<<4|5, byte(n))
}

func encUnsigned(b []byte, v uint32) []byte {
	switch {
	case v < 1<<8:
		return append(appTag(b, tagUnsigned, 1), byte(v))
	case v < 1<<16:
		return append(appTag(b, tagUnsigned, 2), byte(v>>8), byte(v))
	case v < 1<<24:
		return append(appTag(b, tagUnsigned, 3), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint32(appTag(b, tagUnsigned, 4), v)
}

func encEnum(b []byte, v byte) []byte { return append(appTag(b, tagEnum, 1), v) }

func encReal(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint32(appTag(b, tagReal, 4), math.Float32bits(float32(v)))
}

// encString appends a CharacterString in UTF-8 (character set 0).
func encString(b []byte, s string) []byte {
	if len(s) > maxBACnetString {
		s = s[:maxBACnetString]
	}
	b = appTag(b, tagString, len(s)+1)
	return append(append(b, 0), s...)
}

func encObjectID(b []byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32(appTag(b, tagObjectID, 4), id)
}

// ctxUnsigned appends a context-tagged unsigned (object id, property id).
func ctxUnsigned(b []byte, tag byte, v uint32) []byte {
	switch {
	case v < 1<<8:
		return append(b, tag<<4|0x08|1, byte(v))
	case v < 1<<16:
		return append(b, tag<<4|0x08|2, byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint32(append(b, tag<<4|0x08|4), v)
}

// btag is one decoded tag.
type btag struct {
	num     byte
	context bool
	open    bool
	close   bool
	value   []byte // the content (nil for open/close)
	length  int    // for application booleans, the value itself
}

var errBACnetShort = errors.New("bacnet: truncated tag")

// nextTag decodes the tag at the start of b and returns the rest.
func nextTag(b []byte) (btag, []byte, error) {
	if len(b) < 1 {
		return btag{}, nil, errBACnetShort
	}
	t := btag{num: b[0] >> 4, context: b[0]&0x08 != 0}
	lvt := int(b[0] & 0x07)
	b = b[1:]
	if t.num == 0x0F {
		if len(b) < 1 {
			return btag{}, nil, errBACnetShort
		}
		t.num, b = b[0], b[1:]
	}
	if t.context && lvt == 6 {
		t.open = true
		return t, b, nil
	}
	if t.context && lvt == 7 {
		t.close = true
		return t, b, nil
	}
	if !t.context && t.num == tagBool {
		t.length = lvt
		return t, b, nil
	}
	if lvt == 5 {
		if len(b) < 1 {
			return btag{}, nil, errBACnetShort
		}
		lvt, b = int(b[0]), b[1:]
		switch lvt {
		case 254:
			if len(b) < 2 {
				return btag{}, nil, errBACnetShort
			}
			lvt, b = int(binary.BigEndian.Uint16(b)), b[2:]
		case 255:
			return btag{}, nil, errBACnetShort // 4-byte lengths exceed any datagram
		}
	}
	if len(b) < lvt {
		return btag{}, nil, errBACnetShort
	}
	t.length, t.value = lvt, b[:lvt]
	return t, b[lvt:], nil
}

// uintOf decodes an unsigned of 1-4 bytes.
func uintOf(v []byte) (uint32, bool) {
	if len(v) < 1 || len(v) > 4 {
		return 0, false
	}
	var x uint32
	for _, c := range v {
		x = x<<8 | uint32(c)
	}
	return x, true
}
