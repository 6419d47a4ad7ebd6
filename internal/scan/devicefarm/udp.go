package devicefarm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Zone is the probe zone the farm's open resolvers answer for; the
// scanner's dns module queries names under the same zone.
const Zone = "probe.kansoku-scan.test."

// serveUDP answers reflector probes. It is a reflector only towards
// 127/8 since that is all a farm ever binds and hears.
func serveUDP(pc net.PacketConn, d *Device, proto string) {
	buf := make([]byte, 2048)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		for _, out := range reply(d, proto, buf[:n]) {
			if _, err := pc.WriteTo(out, from); err != nil {
				break
			}
		}
	}
}

func reply(d *Device, proto string, req []byte) [][]byte {
	switch proto {
	case "dns":
		if b := dnsReply(req); b != nil {
			return [][]byte{b}
		}
	case "ntp":
		return ntpReply(d, req)
	case "ssdp":
		if bytes.HasPrefix(req, []byte("M-SEARCH")) {
			return ssdpReply(d)
		}
	case "memcached":
		if len(req) > 8 && bytes.HasPrefix(req[8:], []byte("stats")) {
			body := fmt.Sprintf("STAT pid %d\r\nSTAT uptime %d\r\nSTAT version 1.4.25\r\nSTAT curr_connections 10\r\nSTAT total_items %d\r\nSTAT bytes %d\r\nSTAT limit_maxbytes 67108864\r\nSTAT threads 4\r\nEND\r\n",
				1000+int(d.readings[0]), int(d.readings[1]*100), int(d.readings[2]), int(d.readings[3]*1000))
			return [][]byte{append([]byte{req[0], req[1], 0, 0, 0, 1, 0, 0}, body...)}
		}
	case "chargen":
		return [][]byte{chargenLines(512)}
	case "snmp":
		if b := snmpReply(d, req); b != nil {
			return [][]byte{b}
		}
	}
	return nil
}

func dnsReply(req []byte) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(req); err != nil || len(m.Questions) != 1 || m.Header.Response {
		return nil
	}
	q := m.Questions[0]
	resp := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: m.Header.ID, Response: true, RecursionDesired: m.Header.RecursionDesired, RecursionAvailable: true},
		Questions: m.Questions,
	}
	if strings.HasSuffix(strings.ToLower(q.Name.String()), Zone) && q.Type == dnsmessage.TypeA {
		// 192.0.2.0/24 is documentation space: an inert answer.
		resp.Answers = []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: [4]byte{192, 0, 2, 53}},
		}}
	} else {
		resp.Header.RCode = dnsmessage.RCodeNameError
	}
	b, err := resp.Pack()
	if err != nil {
		return nil
	}
	return b
}

const monlistItem = 72

func ntpReply(d *Device, req []byte) [][]byte {
	if len(req) < 4 {
		return nil
	}
	switch req[0] & 7 {
	case 7:
		if req[3] != 42 {
			return nil
		}
		// Six monitor entries per packet, as ntpd sends them.
		entries := 30 + int(d.readings[0])%60
		var out [][]byte
		for seq := 0; entries > 0; seq++ {
			k := min(6, entries)
			entries -= k
			more := byte(0)
			if entries > 0 {
				more = 0x40
			}
			p := []byte{0x80 | more | 0x17&0x3f, byte(seq), 3, 42, 0, byte(k), 0, monlistItem}
			for i := range k {
				item := make([]byte, monlistItem)
				binary.BigEndian.PutUint32(item[16:], uint32(0x7f000000|(seq*6+i)))
				p = append(p, item...)
			}
			out = append(out, p)
		}
		return out
	case 6:
		if req[1]&0x1f != 2 {
			return nil
		}
		data := `version="ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:52 UTC 2016 (1)", processor="armv7l", system="Linux/3.10.14", leap=00, stratum=3, precision=-20, rootdelay=12.345, rootdisp=45.678, refid=192.0.2.123, clock=0xe1b2c3d4.00000000, peer=1234, tc=10, mintc=3, offset=0.123, frequency=-12.345, sys_jitter=0.456, clk_jitter=0.789, clk_wander=0.012`
		// Same version as asked, association and sequence echoed; data
		// padded to a 4-byte boundary as ntpd does.
		h := []byte{req[0]&0x38 | 6, 0x82, req[2], req[3], 0x06, 0x15, 0, 0, 0, 0, 0, 0}
		if len(req) >= 8 {
			copy(h[6:8], req[6:8])
		}
		binary.BigEndian.PutUint16(h[10:], uint16(len(data)))
		out := append(h, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		return [][]byte{out}
	}
	return nil
}

func ssdpReply(d *Device) [][]byte {
	server := "Linux/2.6.36 UPnP/1.0 WR940/2.0"
	if d.Template == "ipcam" {
		server = "Linux/2.6 UPnP/1.0 IPCam/1.0"
	}
	var out [][]byte
	for _, st := range []string{"upnp:rootdevice", "urn:schemas-upnp-org:device:InternetGatewayDevice:1", "urn:schemas-upnp-org:service:WANIPConnection:1"} {
		out = append(out, fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://%s:1900/rootDesc.xml\r\nSERVER: %s\r\nST: %s\r\nUSN: uuid:%s::%s\r\n\r\n",
			d.IP, server, st, strings.ToLower(d.serial), st))
	}
	return out
}

// chargenLines is RFC 864's rotating 72-character pattern.
func chargenLines(n int) []byte {
	var b []byte
	for line := 0; len(b) < n; line++ {
		for i := range 72 {
			b = append(b, byte(' '+(line+i)%95))
		}
		b = append(b, '\r', '\n')
	}
	return b[:n]
}

func tlv(tag byte, v []byte) []byte {
	switch n := len(v); {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, v...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, v...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, v...)
	}
}

// snmpReply answers a v2c GetRequest with community "public" by returning
// sysDescr for every requested OID; other communities get no answer, as
// with a real agent.
func snmpReply(d *Device, req []byte) []byte {
	if !bytes.Contains(req, []byte{0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}) {
		return nil
	}
	// The request id is the first INTEGER inside the 0xA0 PDU.
	i := bytes.IndexByte(req, 0xa0)
	if i < 0 || i+4 > len(req) {
		return nil
	}
	j := i + 2
	if req[i+1]&0x80 != 0 {
		j += int(req[i+1] & 0x7f)
	}
	if j+2 > len(req) || req[j] != 0x02 || j+2+int(req[j+1]) > len(req) {
		return nil
	}
	reqID := req[j+2 : j+2+int(req[j+1])]
	descr := "Linux WR940 2.6.36 #1 Tue Mar 3 10:02:11 CST 2020 mips"
	if d.Template != "wr-router" {
		descr = d.Product
	}
	oid := []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}
	vb := tlv(0x30, append(tlv(0x06, oid), tlv(0x04, []byte(descr))...))
	pdu := tlv(0xa2, bytes.Join([][]byte{tlv(0x02, reqID), tlv(0x02, []byte{0}), tlv(0x02, []byte{0}), tlv(0x30, vb)}, nil))
	return tlv(0x30, bytes.Join([][]byte{tlv(0x02, []byte{1}), tlv(0x04, []byte("public")), pdu}, nil))
}
