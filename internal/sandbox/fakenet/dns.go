package fakenet

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Query is a parsed DNS question.
type Query struct {
	ID    uint16
	Flags uint16
	Name  string
	Type  uint16
	Class uint16
	raw   []byte // header + question, echoed in the answer
}

var errShort = errors.New("fakenet: short dns message")

// ParseQuery reads the first question of a DNS query.
func ParseQuery(b []byte) (*Query, error) {
	if len(b) < 12 {
		return nil, errShort
	}
	q := &Query{ID: binary.BigEndian.Uint16(b), Flags: binary.BigEndian.Uint16(b[2:])}
	if q.Flags&0x8000 != 0 {
		return nil, errors.New("fakenet: dns message is a response")
	}
	if binary.BigEndian.Uint16(b[4:]) == 0 {
		return nil, errors.New("fakenet: dns query without question")
	}
	var labels []string
	i := 12
	for {
		if i >= len(b) {
			return nil, errShort
		}
		l := int(b[i])
		if l == 0 {
			i++
			break
		}
		if l&0xC0 != 0 {
			return nil, errors.New("fakenet: compressed name in question")
		}
		if i+1+l > len(b) || len(labels) > 127 {
			return nil, errShort
		}
		labels = append(labels, string(b[i+1:i+1+l]))
		i += 1 + l
	}
	if i+4 > len(b) {
		return nil, errShort
	}
	q.Name = strings.Join(labels, ".")
	q.Type = binary.BigEndian.Uint16(b[i:])
	q.Class = binary.BigEndian.Uint16(b[i+2:])
	q.raw = b[:i+4]
	return q, nil
}

// TypeName is the question type's mnemonic.
func (q *Query) TypeName() string {
	switch q.Type {
	case 1:
		return "A"
	case 28:
		return "AAAA"
	case 5:
		return "CNAME"
	case 15:
		return "MX"
	case 16:
		return "TXT"
	case 12:
		return "PTR"
	case 255:
		return "ANY"
	}
	return "TYPE" + strconv.Itoa(int(q.Type))
}

// Answer builds the response: an A record from AnswerFor for A and ANY
// questions, an empty NOERROR answer for everything else (so resolvers fall
// back to IPv4, which the fake Internet serves).
func (q *Query) Answer() ([]byte, string) {
	out := make([]byte, 0, len(q.raw)+16)
	out = append(out, q.raw...)
	flags := uint16(0x8000 | 0x0400 | q.Flags&0x0100 | 0x0080) // QR, AA, RD echoed, RA
	binary.BigEndian.PutUint16(out[2:], flags)
	binary.BigEndian.PutUint16(out[4:], 1) // one question
	binary.BigEndian.PutUint16(out[8:], 0)
	binary.BigEndian.PutUint16(out[10:], 0)
	if q.Type != 1 && q.Type != 255 || q.Class != 1 {
		binary.BigEndian.PutUint16(out[6:], 0)
		return out, ""
	}
	addr := AnswerFor(q.Name)
	binary.BigEndian.PutUint16(out[6:], 1)
	out = append(out, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
	a4 := addr.As4()
	out = append(out, a4[:]...)
	return out, addr.String()
}
