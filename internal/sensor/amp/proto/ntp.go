package proto

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

func init() {
	register(Protocol{Name: "ntp", Port: 123, DefaultListen: "127.0.0.1:10123", New: newNTP})
}

// ntpHandler is an old ntpd (4.2.6) with mode 7 and mode 6 queries open to
// everyone: monlist, readvar, and ordinary time service.
type ntpHandler struct {
	id      Identity
	now     func() time.Time
	peers   []monEntry
	refid   [4]byte
	version string
}

// monEntry is one row of the monitor list (ntpd's info_monitor_1).
type monEntry struct {
	addr          [4]byte
	port          uint16
	mode, version uint8
	count         uint32
	avgInt        uint32
	lastAgo       uint32
}

// ntpd constants (ntp_request.h, ntp_control.h).
const (
	ntpMonGetList1   = 42
	ntpMonGetList    = 20
	ntpImplUniv      = 0
	ntpImplXNTPDOld  = 2
	ntpImplXNTPD     = 3
	ntpMonItemSize   = 72
	ntpMonPerPacket  = 6
	ntpMaxMonPackets = 100
	ntpCtlMaxData    = 468 // CTL_MAX_DATA_LEN
	ntpOpReadStat    = 1
	ntpOpReadVar     = 2
	ntpInfoErrImpl   = 1
	ntpInfoErrReq    = 2
	ntpEpochOffset   = 2208988800
)

func newNTP(id Identity, o Options) (Handler, error) {
	n := o.MonlistEntries
	if n <= 0 {
		n = 18
	}
	if n > ntpMonPerPacket*ntpMaxMonPackets {
		return nil, fmt.Errorf("ntp: monlist_entries %d over ntpd's maximum %d", n, ntpMonPerPacket*ntpMaxMonPackets)
	}
	h := &ntpHandler{id: id, now: o.now}
	r := id.Rand("ntp")
	// The monitor list of a LAN time server: its own clients, a few
	// upstream servers, counts falling off along the list.
	for i := 0; i < n; i++ {
		var e monEntry
		switch {
		case i < 3:
			// upstream servers: public pool-like addresses, per install
			e.addr = zoneRand{next: func(n int) int { return r.IntN(n) }}.v4().As4()
			e.port, e.mode = 123, 4
		default:
			e.addr = id.LANHost(2 + r.IntN(250)).As4()
			e.port, e.mode = uint16(1024+r.IntN(64000)), 3
			if r.IntN(3) == 0 {
				e.port = 123
			}
		}
		e.version = uint8(3 + r.IntN(2))
		e.count = uint32(1 + r.IntN(200000/(i+1)))
		e.avgInt = uint32(16 + r.IntN(1024))
		e.lastAgo = uint32(r.IntN(1200 * (i + 1)))
		h.peers = append(h.peers, e)
	}
	h.refid = h.peers[0].addr
	h.version = "ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:51 UTC 2016 (1)"
	return h, nil
}

func (h *ntpHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 1 {
		return Reply{}, malformed("ntp", "empty")
	}
	mode := req[0] & 7
	vn := (req[0] >> 3) & 7
	switch mode {
	case 7:
		return h.private(req, vn)
	case 6:
		return h.control(req, vn)
	case 3, 1:
		return h.client(req, vn)
	}
	return Reply{}, malformed("ntp", "mode %d", mode)
}

// private answers mode 7 (ntpdc) requests.
func (h *ntpHandler) private(req []byte, vn byte) (Reply, error) {
	if len(req) < 8 {
		return Reply{}, malformed("ntp", "mode 7 request of %d bytes", len(req))
	}
	if req[0]&0x80 != 0 {
		return Reply{}, malformed("ntp", "mode 7 response")
	}
	impl, code := req[2], req[3]
	content := fmt.Sprintf("mode7 impl=%d req=%d", impl, code)
	hdr := func(more bool, seq int, err, items, size int) []byte {
		b := make([]byte, 8, 8+items*size)
		b[0] = 0x80 | vn<<3 | 7
		if more {
			b[0] |= 0x40
		}
		b[1] = byte(seq & 0x7f)
		b[2], b[3] = impl, code
		binary.BigEndian.PutUint16(b[4:], uint16(err<<12|items))
		binary.BigEndian.PutUint16(b[6:], uint16(size))
		return b
	}
	if impl != ntpImplUniv && impl != ntpImplXNTPDOld && impl != ntpImplXNTPD {
		return Reply{Content: content, Packets: [][]byte{hdr(false, 0, ntpInfoErrImpl, 0, 0)}}, nil
	}
	if code != ntpMonGetList1 && code != ntpMonGetList {
		return Reply{Content: content, Packets: [][]byte{hdr(false, 0, ntpInfoErrReq, 0, 0)}}, nil
	}
	var pkts [][]byte
	for seq := 0; seq*ntpMonPerPacket < len(h.peers); seq++ {
		chunk := h.peers[seq*ntpMonPerPacket : min(len(h.peers), (seq+1)*ntpMonPerPacket)]
		more := (seq+1)*ntpMonPerPacket < len(h.peers)
		b := hdr(more, seq, 0, len(chunk), ntpMonItemSize)
		for _, e := range chunk {
			var it [ntpMonItemSize]byte
			binary.BigEndian.PutUint32(it[0:], e.avgInt)
			binary.BigEndian.PutUint32(it[4:], e.lastAgo)
			binary.BigEndian.PutUint32(it[8:], 0) // restr
			binary.BigEndian.PutUint32(it[12:], e.count)
			copy(it[16:20], e.addr[:])
			copy(it[20:24], h.id.LANHost(1).AsSlice()) // daddr: our address
			binary.BigEndian.PutUint32(it[24:], 0)     // flags
			binary.BigEndian.PutUint16(it[28:], e.port)
			it[30], it[31] = e.mode, e.version
			// v6_flag, unused, addr6, daddr6 stay zero for IPv4 peers.
			b = append(b, it[:]...)
		}
		pkts = append(pkts, b)
	}
	return Reply{Content: content, Packets: pkts}, nil
}

func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// lfp formats an NTP timestamp as ntpd prints l_fp values in mode 6.
func lfp(t uint64) string { return fmt.Sprintf("0x%08x.%08x", t>>32, t&0xffffffff) }

// control answers mode 6 (ntpq) requests.
func (h *ntpHandler) control(req []byte, vn byte) (Reply, error) {
	if len(req) < 12 {
		return Reply{}, malformed("ntp", "mode 6 request of %d bytes", len(req))
	}
	if req[1]&0x80 != 0 {
		return Reply{}, malformed("ntp", "mode 6 response")
	}
	op := req[1] & 0x1f
	seq := binary.BigEndian.Uint16(req[2:])
	assoc := binary.BigEndian.Uint16(req[6:])
	content := fmt.Sprintf("mode6 op=%d", op)
	var data string
	switch {
	case op == ntpOpReadVar && assoc == 0:
		now := h.now()
		data = strings.Join([]string{
			fmt.Sprintf(`version="%s"`, h.version), `processor="x86_64"`, `system="Linux/3.10.0-1160.el7.x86_64"`,
			"leap=0", "stratum=2", "precision=-24", "rootdelay=23.871", "rootdisp=47.212",
			fmt.Sprintf("refid=%d.%d.%d.%d", h.refid[0], h.refid[1], h.refid[2], h.refid[3]),
			"reftime=" + lfp(ntpTime(now.Add(-37*time.Second))),
			"clock=" + lfp(ntpTime(now)),
			"peer=41637", "tc=10", "mintc=3", "offset=-0.421", "frequency=-12.637", "sys_jitter=0.287",
			"clk_jitter=0.341", "clk_wander=0.009",
		}, ", ") + "\r\n"
	case op == ntpOpReadStat:
		// Association ids and status words of the upstream peers.
		var b []byte
		for i := 0; i < 3 && i < len(h.peers); i++ {
			b = binary.BigEndian.AppendUint16(b, uint16(41636+i))
			b = binary.BigEndian.AppendUint16(b, 0x9424-uint16(i)*0x100)
		}
		data = string(b)
	case op == ntpOpReadVar:
		up := h.peers[0].addr
		data = `srcadr=` + netip.AddrFrom4(up).String() + `, srcport=123, dstadr=` + h.id.LANHost(1).String() + `, dstport=123, leap=0, stratum=1, precision=-20, rootdelay=0.000, rootdisp=0.396, refid=GPS, reach=377, unreach=0, hmode=3, pmode=4, hpoll=10, ppoll=10` + "\r\n"
	default:
		content += " unsupported"
		return Reply{Content: content, Packets: [][]byte{h.ctlPacket(vn, op|0x40, seq, assoc, 0, 0x0500, nil, false)}}, nil
	}
	var pkts [][]byte
	for off := 0; off < len(data) || off == 0; off += ntpCtlMaxData {
		end := min(len(data), off+ntpCtlMaxData)
		pkts = append(pkts, h.ctlPacket(vn, op, seq, assoc, off, 0x0615, []byte(data[off:end]), end < len(data)))
		if end == len(data) {
			break
		}
	}
	return Reply{Content: content, Packets: pkts}, nil
}

func (h *ntpHandler) ctlPacket(vn, op byte, seq, assoc uint16, off int, status uint16, data []byte, more bool) []byte {
	b := make([]byte, 12, 12+len(data)+3)
	b[0] = vn<<3 | 6
	b[1] = 0x80 | op
	if more {
		b[1] |= 0x20
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint16(b[4:], status)
	binary.BigEndian.PutUint16(b[6:], assoc)
	binary.BigEndian.PutUint16(b[8:], uint16(off))
	binary.BigEndian.PutUint16(b[10:], uint16(len(data)))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// client answers an ordinary time request (mode 3) with a mode 4 reply.
func (h *ntpHandler) client(req []byte, vn byte) (Reply, error) {
	if len(req) < 48 {
		return Reply{}, malformed("ntp", "client request of %d bytes", len(req))
	}
	now := h.now()
	b := make([]byte, 48)
	if vn == 0 {
		vn = 4
	}
	b[0] = vn<<3 | 4
	b[1], b[2], b[3] = 2, req[2], 0xe8 // stratum 2, poll echoed, precision -24
	binary.BigEndian.PutUint32(b[4:], 0x0000061c)
	binary.BigEndian.PutUint32(b[8:], 0x00000c15)
	copy(b[12:16], h.refid[:])
	binary.BigEndian.PutUint64(b[16:], ntpTime(now.Add(-37*time.Second)))
	copy(b[24:32], req[40:48]) // origin = client's transmit
	binary.BigEndian.PutUint64(b[32:], ntpTime(now))
	binary.BigEndian.PutUint64(b[40:], ntpTime(now.Add(20*time.Microsecond)))
	return Reply{Content: fmt.Sprintf("mode%d v%d", req[0]&7, vn), Packets: [][]byte{b}}, nil
}
