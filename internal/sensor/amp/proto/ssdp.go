package proto

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

func init() {
	register(Protocol{Name: "ssdp", Port: 1900, DefaultListen: "127.0.0.1:11900", New: newSSDP})
}

// ssdpHandler is a home router's UPnP stack (an Internet Gateway Device)
// answering M-SEARCH from anywhere, one reply per matching search target.
type ssdpHandler struct {
	id      Identity
	targets []string // search targets the device advertises, in reply order
	server  string
	now     func() time.Time
}

func newSSDP(id Identity, o Options) (Handler, error) {
	u := "uuid:" + id.UUID
	return &ssdpHandler{id: id, now: o.now, server: "Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.19",
		targets: []string{
			"upnp:rootdevice", u,
			"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
			"urn:schemas-upnp-org:device:WANDevice:1",
			"urn:schemas-upnp-org:device:WANConnectionDevice:1",
			"urn:schemas-upnp-org:service:Layer3Forwarding:1",
			"urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
			"urn:schemas-upnp-org:service:WANIPConnection:1",
		}}, nil
}

func (h *ssdpHandler) Respond(req []byte, peer Peer) (Reply, error) {
	if len(req) > 4096 {
		return Reply{}, malformed("ssdp", "request of %d bytes", len(req))
	}
	lines := strings.Split(string(req), "\n")
	if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(lines[0])), "M-SEARCH * HTTP/1.") {
		return Reply{}, malformed("ssdp", "not an M-SEARCH")
	}
	var st, man string
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(k)) {
		case "ST":
			st = strings.TrimSpace(v)
		case "MAN":
			man = strings.TrimSpace(v)
		}
	}
	content := "ST " + clip(st, 200)
	if st == "" {
		return Reply{Content: content}, malformed("ssdp", "no ST header")
	}
	if !strings.Contains(man, "ssdp:discover") {
		return Reply{Content: content}, malformed("ssdp", "MAN is not ssdp:discover")
	}
	host := peer.Local.Addr()
	if !host.IsValid() || host.IsUnspecified() {
		host = h.id.LANHost(1)
	}
	loc := fmt.Sprintf("http://%s/rootDesc.xml", netip.AddrPortFrom(host, 49152))
	var pkts [][]byte
	for _, t := range h.targets {
		if st != "ssdp:all" && !strings.EqualFold(st, t) {
			continue
		}
		usn := "uuid:" + h.id.UUID
		if t != usn {
			usn += "::" + t
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nDATE: %s\r\nEXT:\r\nLOCATION: %s\r\n", h.now().Format(time.RFC1123), loc)
		fmt.Fprintf(&b, "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: %s\r\nSERVER: %s\r\n", h.id.UUID[:8]+"-1dd2-11b2-a000-"+h.id.UUID[24:], h.server)
		fmt.Fprintf(&b, "X-User-Agent: redsonic\r\nST: %s\r\nUSN: %s\r\n\r\n", t, usn)
		pkts = append(pkts, b.Bytes())
	}
	if len(pkts) == 0 {
		return Reply{Content: content}, fmt.Errorf("ssdp: search target %q: %w", clip(st, 200), ErrNoAnswer)
	}
	return Reply{Content: content, Packets: pkts}, nil
}
