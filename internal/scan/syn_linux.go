//go:build linux

package scan

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// synProber is ZMap-style half-open discovery for IPv4: it sends a bare SYN
// from a raw socket and reads SYN-ACK or RST replies off the same socket.
// The sequence number is a keyed hash of the target, so a reply is only
// believed if it acknowledges that number. The kernel, having no socket
// for the reply, answers a SYN-ACK with RST: no connection is ever made.
type synProber struct {
	fd      int
	srcPort uint16
	key     [16]byte

	mu      sync.Mutex
	waiters map[netip.AddrPort]chan bool
	srcs    map[netip.Prefix]netip.Addr

	stop chan struct{}
	done chan struct{}
}

func newSYNProber() (*synProber, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, ErrNoRawSocket
		}
		return nil, fmt.Errorf("scan: raw socket: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_HDRINCL, 1); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("scan: raw socket: IP_HDRINCL: %w", err)
	}
	// A receive timeout gives the reader a stop path: closing an fd does
	// not wake a thread blocked in recvfrom.
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<20)
	p := &synProber{fd: fd, srcPort: uint16(40000 + rand.IntN(20000)), waiters: map[netip.AddrPort]chan bool{},
		srcs: map[netip.Prefix]netip.Addr{}, stop: make(chan struct{}), done: make(chan struct{})}
	crand.Read(p.key[:])
	go p.read()
	return p, nil
}

func (p *synProber) close() {
	close(p.stop)
	<-p.done
	syscall.Close(p.fd)
}

func (p *synProber) cookie(a netip.Addr, port uint16) uint32 {
	h := fnv.New32a()
	h.Write(p.key[:])
	b := a.As4()
	h.Write(b[:])
	h.Write([]byte{byte(port >> 8), byte(port)})
	return h.Sum32()
}

// source is the local address the kernel would use towards a, found once
// per /24 with a connected (never sending) UDP socket.
func (p *synProber) source(a netip.Addr) (netip.Addr, error) {
	pfx := netip.PrefixFrom(a, 24).Masked()
	p.mu.Lock()
	src, ok := p.srcs[pfx]
	p.mu.Unlock()
	if ok {
		return src, nil
	}
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("scan: route to %s: %w", a, err)
	}
	src = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	c.Close()
	p.mu.Lock()
	p.srcs[pfx] = src
	p.mu.Unlock()
	return src, nil
}

// probe sends one SYN and waits for the verdict: nil (open), a refusal, or
// a timeout.
func (p *synProber) probe(ctx context.Context, ap netip.AddrPort, timeout time.Duration) error {
	dst := ap.Addr()
	if !dst.Is4() {
		return errors.New("scan: syn mode is IPv4 only")
	}
	src, err := p.source(dst)
	if err != nil {
		return err
	}
	ch := make(chan bool, 1)
	p.mu.Lock()
	p.waiters[ap] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.waiters, ap)
		p.mu.Unlock()
	}()
	pkt := synPacket(src, dst, p.srcPort, ap.Port(), p.cookie(dst, ap.Port()))
	if err := syscall.Sendto(p.fd, pkt, 0, &syscall.SockaddrInet4{Addr: dst.As4()}); err != nil {
		return fmt.Errorf("scan: send syn: %w", err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case open := <-ch:
		if open {
			return nil
		}
		return errRefused
	case <-t.C:
		return &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}
	case <-ctx.Done():
		return ctx.Err()
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "syn: no reply" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (p *synProber) read() {
	defer close(p.done)
	buf := make([]byte, 1500)
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		n, _, err := syscall.Recvfrom(p.fd, buf, 0)
		if err != nil {
			continue // timeout tick or EINTR
		}
		src, sport, open, ok := parseReply(buf[:n], p.srcPort, p.cookie)
		if !ok {
			continue
		}
		p.mu.Lock()
		ch := p.waiters[netip.AddrPortFrom(src, sport)]
		p.mu.Unlock()
		if ch != nil {
			select {
			case ch <- open:
			default:
			}
		}
	}
}

// parseReply recognises a SYN-ACK (open) or RST (closed) to our SYN: the
// destination port is ours and the acknowledgement is our cookie + 1.
func parseReply(b []byte, ourPort uint16, cookie func(netip.Addr, uint16) uint32) (netip.Addr, uint16, bool, bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != syscall.IPPROTO_TCP {
		return netip.Addr{}, 0, false, false
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl+20 {
		return netip.Addr{}, 0, false, false
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	tcp := b[ihl:]
	sport := binary.BigEndian.Uint16(tcp[0:])
	dport := binary.BigEndian.Uint16(tcp[2:])
	ack := binary.BigEndian.Uint32(tcp[8:])
	flags := tcp[13]
	if dport != ourPort || ack != cookie(src, sport)+1 {
		return netip.Addr{}, 0, false, false
	}
	switch {
	case flags&0x12 == 0x12: // SYN+ACK
		return src, sport, true, true
	case flags&0x04 != 0: // RST
		return src, sport, false, true
	}
	return netip.Addr{}, 0, false, false
}

// synPacket builds an IPv4 header and a TCP SYN with an MSS option.
func synPacket(src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	const ipLen, tcpLen = 20, 24
	b := make([]byte, ipLen+tcpLen)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], ipLen+tcpLen)
	b[8] = 64 // TTL
	b[9] = syscall.IPPROTO_TCP
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:], s4[:])
	copy(b[16:], d4[:])
	binary.BigEndian.PutUint16(b[10:], checksum(b[:ipLen], 0))
	t := b[ipLen:]
	binary.BigEndian.PutUint16(t[0:], sport)
	binary.BigEndian.PutUint16(t[2:], dport)
	binary.BigEndian.PutUint32(t[4:], seq)
	t[12] = (tcpLen / 4) << 4
	t[13] = 0x02 // SYN
	binary.BigEndian.PutUint16(t[14:], 65535)
	t[20], t[21] = 2, 4 // MSS 1460
	binary.BigEndian.PutUint16(t[22:], 1460)
	// Pseudo-header: source, destination, protocol, TCP length.
	var ph uint32
	for i := 0; i < 4; i += 2 {
		ph += uint32(binary.BigEndian.Uint16(s4[i:])) + uint32(binary.BigEndian.Uint16(d4[i:]))
	}
	ph += syscall.IPPROTO_TCP + tcpLen
	binary.BigEndian.PutUint16(t[16:], checksum(t, ph))
	return b
}

func checksum(b []byte, sum uint32) uint16 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
