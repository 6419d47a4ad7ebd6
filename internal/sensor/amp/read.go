package amp

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchSize is how many datagrams one recvmmsg call may return.
const batchSize = 32

// reader receives datagrams with their IP TTL (IP_RECVTTL /
// IPV6_RECVHOPLIMIT) and destination address, in batches where the
// platform allows.
type reader struct {
	pc    net.PacketConn
	local netip.AddrPort
	v4    *ipv4.PacketConn
	v6    *ipv6.PacketConn
	msgs  []ipv4.Message
	bufs  [][]byte
	out   []packet
}

func newReader(pc net.PacketConn, local netip.AddrPort) *reader {
	r := &reader{pc: pc, local: local}
	if _, ok := pc.(*net.UDPConn); ok {
		if local.Addr().Is4() {
			r.v4 = ipv4.NewPacketConn(pc)
			if r.v4.SetControlMessage(ipv4.FlagTTL|ipv4.FlagDst, true) != nil {
				r.v4 = nil
			}
		} else {
			r.v6 = ipv6.NewPacketConn(pc)
			if r.v6.SetControlMessage(ipv6.FlagHopLimit|ipv6.FlagDst, true) != nil {
				r.v6 = nil
			}
		}
	}
	n := batchSize
	if r.v4 == nil && r.v6 == nil {
		n = 1
	}
	r.msgs = make([]ipv4.Message, n)
	r.bufs = make([][]byte, n)
	r.out = make([]packet, 0, n)
	for i := range r.msgs {
		r.bufs[i] = make([]byte, maxDatagram)
		r.msgs[i].Buffers = [][]byte{r.bufs[i]}
		r.msgs[i].OOB = make([]byte, 128)
	}
	return r
}

// read returns the next datagrams; their data is valid until the next call.
func (r *reader) read() ([]packet, error) {
	r.out = r.out[:0]
	if r.v4 == nil && r.v6 == nil {
		n, addr, err := r.pc.ReadFrom(r.bufs[0])
		if n > 0 || err == nil {
			r.out = append(r.out, packet{data: r.bufs[0][:n], src: addrPortOf(addr), dst: r.local, ttl: -1})
		}
		return r.out, err
	}
	var n int
	var err error
	if r.v4 != nil {
		n, err = r.v4.ReadBatch(r.msgs, 0)
	} else {
		n, err = r.v6.ReadBatch(r.msgs, 0)
	}
	for i := 0; i < n; i++ {
		m := &r.msgs[i]
		p := packet{data: r.bufs[i][:m.N], dst: r.local, ttl: -1}
		if ua, ok := m.Addr.(*net.UDPAddr); ok {
			ap := ua.AddrPort()
			p.src = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		if r.v4 != nil {
			var cm ipv4.ControlMessage
			if cm.Parse(m.OOB[:m.NN]) == nil {
				p.ttl = cm.TTL
				if d, ok := netip.AddrFromSlice(cm.Dst); ok && !d.IsUnspecified() {
					p.dst = netip.AddrPortFrom(d.Unmap(), r.local.Port())
				}
			}
		} else {
			var cm ipv6.ControlMessage
			if cm.Parse(m.OOB[:m.NN]) == nil {
				p.ttl = cm.HopLimit
				if d, ok := netip.AddrFromSlice(cm.Dst); ok && !d.IsUnspecified() {
					p.dst = netip.AddrPortFrom(d.Unmap(), r.local.Port())
				}
			}
		}
		r.out = append(r.out, p)
	}
	return r.out, err
}
