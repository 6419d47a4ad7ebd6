package proto

import (
	"encoding/binary"
	"fmt"
)

func init() {
	register(Protocol{Name: "portmap", Port: 111, DefaultListen: "127.0.0.1:10111", New: newPortmap})
}

// portmapHandler is rpcbind on an NFS server: DUMP lists every registered
// program (version 2 mappings or version 3/4 rpcb entries); NULL answers
// empty; other procedures are refused as rpcbind does.
type portmapHandler struct {
	maps []pmap
}

type pmap struct {
	prog, vers, prot, port uint32
	netid, owner           string
}

const (
	rpcProgPortmap = 100000
	pmapProcNull   = 0
	pmapProcDump   = 4
)

func newPortmap(id Identity, _ Options) (Handler, error) {
	r := id.Rand("portmap")
	mountd := uint32(20048)
	status := uint32(32765 + r.IntN(2000))
	nlock := uint32(32803 + r.IntN(2000))
	var m []pmap
	add := func(prog uint32, vers []uint32, port uint32, owner string) {
		for _, v := range vers {
			for _, p := range []struct {
				prot  uint32
				netid string
			}{{6, "tcp"}, {17, "udp"}} {
				m = append(m, pmap{prog: prog, vers: v, prot: p.prot, port: port, netid: p.netid, owner: owner})
			}
		}
	}
	add(100000, []uint32{4, 3, 2}, 111, "superuser")
	add(100024, []uint32{1}, status, "29")
	add(100005, []uint32{1, 2, 3}, mountd, "superuser")
	add(100003, []uint32{3, 4}, 2049, "superuser")
	add(100227, []uint32{3}, 2049, "superuser")
	add(100021, []uint32{1, 3, 4}, nlock, "superuser")
	return &portmapHandler{maps: m}, nil
}

func (h *portmapHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 40 {
		return Reply{}, malformed("portmap", "call of %d bytes", len(req))
	}
	u := func(i int) uint32 { return binary.BigEndian.Uint32(req[i:]) }
	xid := u(0)
	if u(4) != 0 || u(8) != 2 {
		return Reply{}, malformed("portmap", "not an RPC v2 call")
	}
	prog, vers, proc := u(12), u(16), u(20)
	// Credentials and verifier: flavor, length, body.
	off := 24
	for i := 0; i < 2; i++ {
		if len(req) < off+8 {
			return Reply{}, malformed("portmap", "short auth")
		}
		l := int(u(off + 4))
		if l > 400 || len(req) < off+8+l {
			return Reply{}, malformed("portmap", "auth body of %d bytes", l)
		}
		off += 8 + (l+3)&^3
	}
	content := fmt.Sprintf("prog=%d vers=%d proc=%d", prog, vers, proc)
	b := binary.BigEndian.AppendUint32(nil, xid)
	b = binary.BigEndian.AppendUint32(b, 1) // REPLY
	b = binary.BigEndian.AppendUint32(b, 0) // MSG_ACCEPTED
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)   // verifier AUTH_NULL
	switch {
	case prog != rpcProgPortmap:
		b = binary.BigEndian.AppendUint32(b, 1) // PROG_UNAVAIL
	case vers < 2 || vers > 4:
		b = binary.BigEndian.AppendUint32(b, 2) // PROG_MISMATCH
		b = binary.BigEndian.AppendUint32(b, 2)
		b = binary.BigEndian.AppendUint32(b, 4)
	case proc == pmapProcNull:
		b = binary.BigEndian.AppendUint32(b, 0)
	case proc == pmapProcDump:
		b = binary.BigEndian.AppendUint32(b, 0) // SUCCESS
		for _, m := range h.maps {
			b = binary.BigEndian.AppendUint32(b, 1)
			b = binary.BigEndian.AppendUint32(b, m.prog)
			b = binary.BigEndian.AppendUint32(b, m.vers)
			if vers == 2 {
				b = binary.BigEndian.AppendUint32(b, m.prot)
				b = binary.BigEndian.AppendUint32(b, m.port)
				continue
			}
			b = xdrString(b, m.netid)
			b = xdrString(b, fmt.Sprintf("0.0.0.0.%d.%d", m.port>>8, m.port&0xff))
			b = xdrString(b, m.owner)
		}
		b = binary.BigEndian.AppendUint32(b, 0)
	default:
		b = binary.BigEndian.AppendUint32(b, 3) // PROC_UNAVAIL
	}
	return Reply{Content: content, Packets: [][]byte{b}}, nil
}

func xdrString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	b = append(b, s...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
