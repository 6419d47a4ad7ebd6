package proto

import (
	"encoding/binary"
	"fmt"
	"time"
)

func init() {
	register(Protocol{Name: "ubiquiti", Port: 10001, DefaultListen: "127.0.0.1:20001", New: newUbiquiti})
}

// ubiquitiHandler is an airOS radio's discovery service: the 4-byte v1
// probe gets a TLV list of MAC, addresses, firmware, name and SSID.
type ubiquitiHandler struct {
	id       Identity
	now      func() time.Time
	platform string
	firmware string
	essid    string
}

func newUbiquiti(id Identity, o Options) (Handler, error) {
	r := id.Rand("ubiquiti")
	models := [][2]string{{"NBE-5AC-Gen2", "WA.ar934x.v8.7.11.46972.220614.0420"}, {"LBE-5AC-Gen2", "WA.ar934x.v8.7.4.45112.210415.1103"}, {"NSM5", "XW.ar934x.v6.3.6.33330.210818.1920"}, {"LocoM2", "XM.ar7240.v6.1.7.32555.180523.1754"}}
	m := models[r.IntN(len(models))]
	return &ubiquitiHandler{id: id, now: o.now, platform: m[0], firmware: m[1], essid: fmt.Sprintf("%s-PTP-%d", id.Workgrp, 1+r.IntN(40))}, nil
}

func (h *ubiquitiHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) != 4 || req[0] != 1 || req[1] != 0 || req[2] != 0 || req[3] != 0 {
		return Reply{}, malformed("ubiquiti", "not a v1 discovery probe")
	}
	lan := h.id.LANHost(20).As4()
	var body []byte
	tlv := func(t byte, v []byte) {
		body = append(body, t)
		body = binary.BigEndian.AppendUint16(body, uint16(len(v)))
		body = append(body, v...)
	}
	tlv(0x02, append(h.id.MAC[:], lan[:]...))
	tlv(0x01, h.id.MAC[:])
	tlv(0x0a, binary.BigEndian.AppendUint32(nil, uint32(h.id.Uptime(h.now())/time.Second)))
	tlv(0x0b, []byte(h.id.Hostname))
	tlv(0x0c, []byte(h.platform))
	tlv(0x0d, []byte(h.essid))
	tlv(0x0e, []byte{2})
	tlv(0x03, []byte(h.firmware))
	tlv(0x10, []byte{0xe8, 0xa5})
	b := []byte{1, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return Reply{Content: "v1 discovery", Packets: [][]byte{append(b, body...)}}, nil
}
