package proto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// BER is the subset of ASN.1 Basic Encoding Rules that SNMP and LDAP use:
// definite lengths only, single-byte tags, lengths up to 2^24-1.

var errBER = errors.New("ber")

// tlv is one decoded element.
type tlv struct {
	Tag   byte
	Value []byte
}

// Constructed reports whether the element contains other elements.
func (t tlv) Constructed() bool { return t.Tag&0x20 != 0 }

// readTLV decodes the element at the start of b and returns the rest.
func readTLV(b []byte) (tlv, []byte, error) {
	if len(b) < 2 {
		return tlv{}, nil, fmt.Errorf("%w: short element", errBER)
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return tlv{}, nil, fmt.Errorf("%w: multi-byte tag", errBER)
	}
	l := int(b[1])
	b = b[2:]
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 {
			return tlv{}, nil, fmt.Errorf("%w: length of %d bytes", errBER, n)
		}
		if len(b) < n {
			return tlv{}, nil, fmt.Errorf("%w: short length", errBER)
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(b[i])
		}
		b = b[n:]
	}
	if l > len(b) {
		return tlv{}, nil, fmt.Errorf("%w: length %d beyond %d bytes", errBER, l, len(b))
	}
	return tlv{Tag: tag, Value: b[:l]}, b[l:], nil
}

// expect reads one element and checks its tag.
func expect(b []byte, tag byte) (tlv, []byte, error) {
	t, rest, err := readTLV(b)
	if err != nil {
		return t, nil, err
	}
	if t.Tag != tag {
		return t, nil, fmt.Errorf("%w: tag 0x%02x, want 0x%02x", errBER, t.Tag, tag)
	}
	return t, rest, nil
}

// parseInt decodes a two's-complement INTEGER of at most 8 bytes.
func parseInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, fmt.Errorf("%w: integer of %d bytes", errBER, len(v))
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// parseOID decodes an OBJECT IDENTIFIER.
func parseOID(v []byte) (oid, error) {
	if len(v) == 0 || len(v) > 128 {
		return nil, fmt.Errorf("%w: oid of %d bytes", errBER, len(v))
	}
	var out oid
	var cur uint64
	for i, c := range v {
		if cur > 1<<28 {
			return nil, fmt.Errorf("%w: oid arc overflow", errBER)
		}
		cur = cur<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(v)-1 {
				return nil, fmt.Errorf("%w: truncated oid", errBER)
			}
			continue
		}
		if len(out) == 0 {
			first := cur / 40
			if first > 2 {
				first = 2
			}
			out = append(out, uint32(first), uint32(cur-40*first))
		} else {
			out = append(out, uint32(cur))
		}
		cur = 0
	}
	return out, nil
}

// oid is an OBJECT IDENTIFIER as its arcs.
type oid []uint32

func mustOID(s string) oid {
	var o oid
	for _, p := range strings.Split(strings.TrimPrefix(s, "."), ".") {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			panic("proto: bad oid " + s)
		}
		o = append(o, uint32(n))
	}
	return o
}

func (o oid) String() string {
	var b strings.Builder
	for i, a := range o {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(a), 10))
	}
	return b.String()
}

// cmp orders OIDs lexicographically by arc, as SNMP's GetNext requires.
func (o oid) cmp(p oid) int {
	for i := 0; i < len(o) && i < len(p); i++ {
		switch {
		case o[i] < p[i]:
			return -1
		case o[i] > p[i]:
			return 1
		}
	}
	return len(o) - len(p)
}

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// elem returns one encoded element.
func elem(tag byte, v []byte) []byte {
	b := make([]byte, 0, len(v)+5)
	b = append(b, tag)
	b = appendLen(b, len(v))
	return append(b, v...)
}

// seq concatenates encoded elements under a constructed tag.
func seq(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+5)
	b = append(b, tag)
	b = appendLen(b, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func encInt(tag byte, n int64) []byte {
	var v []byte
	for {
		v = append([]byte{byte(n)}, v...)
		if (n >= -128 && n < 128) || len(v) == 8 {
			break
		}
		n >>= 8
	}
	return elem(tag, v)
}

// encUint encodes an unsigned application type (Counter32, Gauge32,
// TimeTicks, Counter64): a leading zero keeps the value positive.
func encUint(tag byte, n uint64) []byte {
	var v []byte
	for {
		v = append([]byte{byte(n)}, v...)
		n >>= 8
		if n == 0 {
			break
		}
	}
	if v[0]&0x80 != 0 {
		v = append([]byte{0}, v...)
	}
	return elem(tag, v)
}

func encOID(o oid) []byte {
	var v []byte
	if len(o) >= 2 {
		v = appendArc(v, o[0]*40+o[1])
		for _, a := range o[2:] {
			v = appendArc(v, a)
		}
	}
	return elem(0x06, v)
}

func appendArc(b []byte, a uint32) []byte {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(a & 0x7f)
	for a >>= 7; a > 0; a >>= 7 {
		i--
		tmp[i] = byte(a&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}

func encStr(tag byte, s string) []byte { return elem(tag, []byte(s)) }
