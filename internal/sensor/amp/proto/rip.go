package proto

import (
	"encoding/binary"
	"fmt"
)

func init() {
	register(Protocol{Name: "ripv1", Port: 520, DefaultListen: "127.0.0.1:10520", New: newRIP})
}

// ripHandler is a RIPv1 router answering a whole-table request with its
// routing table, 25 routes per datagram (RFC 1058).
type ripHandler struct {
	routes []ripRoute
}

type ripRoute struct {
	addr   [4]byte
	metric uint32
}

const ripPerPacket = 25

func newRIP(id Identity, _ Options) (Handler, error) {
	r := id.Rand("rip")
	h := &ripHandler{}
	seen := map[[4]byte]bool{}
	for len(h.routes) < 38 {
		var a [4]byte
		switch r.IntN(3) {
		case 0:
			a = [4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), 0}
		case 1:
			a = [4]byte{172, byte(16 + r.IntN(16)), byte(r.IntN(256)), 0}
		default:
			a = [4]byte{192, 168, byte(r.IntN(256)), 0}
		}
		if seen[a] {
			continue
		}
		seen[a] = true
		h.routes = append(h.routes, ripRoute{addr: a, metric: uint32(1 + r.IntN(6))})
	}
	return h, nil
}

func (h *ripHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 4 || (len(req)-4)%20 != 0 || len(req) > 4+20*ripPerPacket {
		return Reply{}, malformed("ripv1", "datagram of %d bytes", len(req))
	}
	if req[0] != 1 {
		return Reply{}, malformed("ripv1", "command %d", req[0])
	}
	if req[1] == 0 {
		return Reply{}, malformed("ripv1", "version 0")
	}
	n := (len(req) - 4) / 20
	if n == 0 {
		return Reply{}, malformed("ripv1", "no entries")
	}
	e := req[4:24]
	whole := n == 1 && binary.BigEndian.Uint16(e[0:]) == 0 && binary.BigEndian.Uint32(e[16:]) == 16
	content := fmt.Sprintf("request v%d entries=%d", req[1], n)
	var routes []ripRoute
	if whole {
		content = fmt.Sprintf("request v%d whole-table", req[1])
		routes = h.routes
	} else {
		// Specific routes: answer each with its metric or infinity.
		for i := 0; i < n; i++ {
			e := req[4+20*i : 24+20*i]
			a := [4]byte(e[4:8])
			m := uint32(16)
			for _, rt := range h.routes {
				if rt.addr == a {
					m = rt.metric
				}
			}
			routes = append(routes, ripRoute{addr: a, metric: m})
		}
	}
	var pkts [][]byte
	for i := 0; i < len(routes); i += ripPerPacket {
		chunk := routes[i:min(len(routes), i+ripPerPacket)]
		b := []byte{2, 1, 0, 0}
		for _, rt := range chunk {
			var ent [20]byte
			binary.BigEndian.PutUint16(ent[0:], 2) // AF_INET
			copy(ent[4:8], rt.addr[:])
			binary.BigEndian.PutUint32(ent[16:], rt.metric)
			b = append(b, ent[:]...)
		}
		pkts = append(pkts, b)
	}
	return Reply{Content: content, Packets: pkts}, nil
}
