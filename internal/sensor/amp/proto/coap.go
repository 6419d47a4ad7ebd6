package proto

import (
	"encoding/binary"
	"fmt"
	"strings"
)

func init() {
	register(Protocol{Name: "coap", Port: 5683, DefaultListen: "127.0.0.1:15683", New: newCoAP})
}

// coapHandler is a constrained IoT gateway (RFC 7252) whose resource
// directory /.well-known/core lists every sensor it exposes.
type coapHandler struct {
	core string
}

func newCoAP(id Identity, _ Options) (Handler, error) {
	r := id.Rand("coap")
	var res []string
	res = append(res, `</.well-known/core>;ct=40`)
	for _, s := range []struct{ path, rt, iface string }{
		{"sensors/temp", "temperature-c", "sensor"}, {"sensors/humidity", "humidity-p", "sensor"},
		{"sensors/light", "light-lux", "sensor"}, {"sensors/pressure", "pressure-hpa", "sensor"},
		{"actuators/relay", "switch", "actuator"}, {"actuators/led", "light-control", "actuator"},
		{"firmware/version", "firmware", "core.p"}, {"firmware/update", "fw-update", "core.p"},
		{"config/network", "network-config", "core.rp"}, {"config/time", "time", "core.rp"},
		{"status/uptime", "uptime", "core.s"}, {"status/battery", "battery-v", "core.s"},
	} {
		res = append(res, fmt.Sprintf(`</%s>;rt="%s";if="%s";ct=0;sz=%d;obs`, s.path, s.rt, s.iface, 8+r.IntN(64)))
	}
	res = append(res, fmt.Sprintf(`</device/%s>;rt="device-info";title="%s"`, id.Serial, id.Hostname))
	return &coapHandler{core: strings.Join(res, ",")}, nil
}

func (h *coapHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 4 {
		return Reply{}, malformed("coap", "datagram of %d bytes", len(req))
	}
	ver, typ, tkl := req[0]>>6, (req[0]>>4)&3, int(req[0]&0x0f)
	code := req[1]
	mid := binary.BigEndian.Uint16(req[2:])
	if ver != 1 || tkl > 8 || len(req) < 4+tkl {
		return Reply{}, malformed("coap", "header")
	}
	if typ > 1 {
		return Reply{}, malformed("coap", "message type %d is not a request", typ)
	}
	token := req[4 : 4+tkl]
	var path []string
	opt := 0
	p := req[4+tkl:]
	for len(p) > 0 && p[0] != 0xff {
		delta, length := int(p[0]>>4), int(p[0]&0x0f)
		p = p[1:]
		var err error
		if delta, p, err = coapExt(delta, p); err != nil {
			return Reply{}, malformed("coap", "option delta: %v", err)
		}
		if length, p, err = coapExt(length, p); err != nil {
			return Reply{}, malformed("coap", "option length: %v", err)
		}
		if len(p) < length {
			return Reply{}, malformed("coap", "option value")
		}
		opt += delta
		if opt == 11 { // Uri-Path
			if len(path) == 16 {
				return Reply{}, malformed("coap", "too many path segments")
			}
			path = append(path, string(p[:length]))
		}
		p = p[length:]
	}
	uri := "/" + strings.Join(path, "/")
	content := fmt.Sprintf("%d.%02d %s", code>>5, code&0x1f, clip(uri, 200))
	if code>>5 != 0 || code == 0 {
		return Reply{}, malformed("coap", "code %d.%02d is not a request", code>>5, code&0x1f)
	}
	rtype := byte(1) // NON answers NON
	if typ == 0 {
		rtype = 2 // ACK piggybacks the response
	}
	b := []byte{1<<6 | rtype<<4 | byte(tkl), 0, byte(mid >> 8), byte(mid)}
	b = append(b, token...)
	switch {
	case code != 1:
		b[1] = 4<<5 | 5 // 4.05 Method Not Allowed
	case uri == "/.well-known/core":
		b[1] = 2<<5 | 5         // 2.05 Content
		b = append(b, 0xc1, 40) // Content-Format (12): application/link-format
		b = append(b, 0xff)     // payload marker
		b = append(b, h.core...)
	default:
		b[1] = 4<<5 | 4 // 4.04 Not Found
	}
	return Reply{Content: content, Packets: [][]byte{b}}, nil
}

// coapExt decodes the extended forms (13, 14) of an option delta or length.
func coapExt(v int, p []byte) (int, []byte, error) {
	switch v {
	case 13:
		if len(p) < 1 {
			return 0, nil, fmt.Errorf("short")
		}
		return int(p[0]) + 13, p[1:], nil
	case 14:
		if len(p) < 2 {
			return 0, nil, fmt.Errorf("short")
		}
		return int(binary.BigEndian.Uint16(p)) + 269, p[2:], nil
	case 15:
		return 0, nil, fmt.Errorf("reserved value 15")
	}
	return v, p, nil
}
