//go:build linux

package scan

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestSYNPacket(t *testing.T) {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	b := synPacket(src, dst, 40000, 443, 0xdeadbeef)
	if checksum(b[:20], 0) != 0 {
		t.Error("IP header checksum does not verify")
	}
	s4, d4 := src.As4(), dst.As4()
	var ph uint32
	for i := 0; i < 4; i += 2 {
		ph += uint32(binary.BigEndian.Uint16(s4[i:])) + uint32(binary.BigEndian.Uint16(d4[i:]))
	}
	ph += 6 + uint32(len(b)-20)
	if checksum(b[20:], ph) != 0 {
		t.Error("TCP checksum does not verify")
	}
	if b[20+13] != 0x02 || binary.BigEndian.Uint32(b[24:]) != 0xdeadbeef {
		t.Errorf("% x", b)
	}
	// A reply that acknowledges the cookie is believed; others are not.
	cookie := func(netip.Addr, uint16) uint32 { return 0xdeadbeef }
	reply := synPacket(dst, src, 443, 40000, 1)
	binary.BigEndian.PutUint32(reply[28:], 0xdeadbef0)
	reply[33] = 0x12
	if a, p, open, ok := parseReply(reply, 40000, cookie); !ok || !open || a != dst || p != 443 {
		t.Errorf("syn-ack: %v %v %v %v", a, p, open, ok)
	}
	reply[33] = 0x14
	if _, _, open, ok := parseReply(reply, 40000, cookie); !ok || open {
		t.Error("rst not seen as closed")
	}
	binary.BigEndian.PutUint32(reply[28:], 7)
	if _, _, _, ok := parseReply(reply, 40000, cookie); ok {
		t.Error("a reply with a wrong acknowledgement was believed")
	}
}

func FuzzParseSYNReply(f *testing.F) {
	f.Add(synPacket(netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"), 80, 40000, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseReply(b, 40000, func(netip.Addr, uint16) uint32 { return 0 })
	})
}
