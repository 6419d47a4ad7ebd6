package proto

import (
	"encoding/binary"
	"fmt"
	"strings"
)

func init() {
	register(Protocol{Name: "netbios", Port: 137, DefaultListen: "127.0.0.1:10137", New: newNetBIOS})
}

// netbiosHandler is a Windows host's NetBIOS name service answering a node
// status (NBSTAT) query with its name table and adapter statistics.
type netbiosHandler struct {
	id    Identity
	names []nbName
}

type nbName struct {
	name   string
	suffix byte
	flags  uint16
}

func newNetBIOS(id Identity, _ Options) (Handler, error) {
	host := strings.ToUpper(id.Hostname)
	if len(host) > 15 {
		host = host[:15]
	}
	wg := id.Workgrp
	return &netbiosHandler{id: id, names: []nbName{
		{host, 0x00, 0x0400}, {wg, 0x00, 0x8400}, {host, 0x20, 0x0400}, {wg, 0x1e, 0x8400},
		{wg, 0x1d, 0x0400}, {"\x01\x02__MSBROWSE__\x02", 0x01, 0x8400}, {host, 0x03, 0x0400},
	}}, nil
}

// decodeNBName decodes a first-level-encoded NetBIOS name (32 letters A-P).
func decodeNBName(b []byte) (string, []byte, error) {
	if len(b) < 34 || b[0] != 32 {
		return "", nil, fmt.Errorf("name label")
	}
	var raw [16]byte
	for i := 0; i < 16; i++ {
		hi, lo := b[1+2*i]-'A', b[2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return "", nil, fmt.Errorf("name encoding")
		}
		raw[i] = hi<<4 | lo
	}
	rest := b[33:]
	// Scope labels, if any, up to the root.
	for len(rest) > 0 && rest[0] != 0 {
		l := int(rest[0])
		if l > 63 || len(rest) < l+1 {
			return "", nil, fmt.Errorf("scope label")
		}
		rest = rest[l+1:]
	}
	if len(rest) == 0 {
		return "", nil, fmt.Errorf("unterminated name")
	}
	return string(raw[:]), rest[1:], nil
}

func (h *netbiosHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 12+34+4 {
		return Reply{}, malformed("netbios", "datagram of %d bytes", len(req))
	}
	flags := binary.BigEndian.Uint16(req[2:])
	if flags&0x8000 != 0 || (flags>>11)&0xf != 0 {
		return Reply{}, malformed("netbios", "not a query")
	}
	if binary.BigEndian.Uint16(req[4:]) != 1 {
		return Reply{}, malformed("netbios", "qdcount")
	}
	qnameEnd := 12
	name, rest, err := decodeNBName(req[12:])
	if err != nil {
		return Reply{}, malformed("netbios", "%v", err)
	}
	qnameEnd = len(req) - len(rest)
	if len(rest) < 4 {
		return Reply{}, malformed("netbios", "short question")
	}
	qtype := binary.BigEndian.Uint16(rest)
	shown := strings.TrimRight(strings.TrimRight(name[:15], " "), "\x00")
	content := fmt.Sprintf("type=0x%04x name=%s<%02x>", qtype, shown, name[15])
	if qtype != 0x21 {
		return Reply{Content: content}, fmt.Errorf("netbios: name query: %w", ErrNoAnswer)
	}
	b := make([]byte, 0, 300)
	b = append(b, req[0], req[1], 0x84, 0x00, 0, 0, 0, 1, 0, 0, 0, 0)
	b = append(b, req[12:qnameEnd]...)
	b = append(b, 0x00, 0x21, 0x00, 0x01, 0, 0, 0, 0)
	rd := []byte{byte(len(h.names))}
	for _, n := range h.names {
		var e [18]byte
		copy(e[:15], fmt.Sprintf("%-15s", n.name))
		e[15] = n.suffix
		binary.BigEndian.PutUint16(e[16:], n.flags)
		rd = append(rd, e[:]...)
	}
	var stats [46]byte
	copy(stats[:6], h.id.MAC[:])
	rd = append(rd, stats[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rd)))
	b = append(b, rd...)
	return Reply{Content: content, Packets: [][]byte{b}}, nil
}
