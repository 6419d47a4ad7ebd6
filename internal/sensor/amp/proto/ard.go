package proto

import (
	"bytes"
	"fmt"
)

func init() {
	register(Protocol{Name: "ard", Port: 3283, DefaultListen: "127.0.0.1:13283", New: newARD})
}

// ardHandler is a Mac's Apple Remote Desktop agent answering the status
// query (00 14 00 01 03, the request reflection tools and nmap's ARD probe
// send) with its 1006-byte status record. The layout follows what scanners
// fingerprint (nmap's "netassistant" match): version 1, record length
// 0x03ea, the fixed markers at offsets 4, 41 and 83, and the computer name
// as a length-prefixed string at offset 126; the other fields are zero.
type ardHandler struct {
	reply []byte
}

const ardRecordLen = 0x03ea

var ardStatusQuery = []byte{0x00, 0x14, 0x00, 0x01, 0x03}

func newARD(id Identity, _ Options) (Handler, error) {
	b := make([]byte, 4+ardRecordLen)
	copy(b, []byte{0x00, 0x01, 0x03, 0xea, 0x00, 0x31})
	b[41] = 0x01
	b[83] = 0x12
	// A Mac's computer name, e.g. "Alex's MacBook Pro".
	r := id.Rand("ard")
	owners := []string{"Alex", "Sam", "Kim", "Jordan", "Taylor", "Chris", "Yuki", "Maria", "Lee", "Robin"}
	name := fmt.Sprintf("%s's %s", owners[r.IntN(len(owners))], []string{"MacBook Pro", "iMac", "Mac mini", "MacBook Air"}[r.IntN(4)])
	b[126] = byte(len(name))
	copy(b[127:], name)
	return &ardHandler{reply: b}, nil
}

func (h *ardHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if !bytes.Equal(req, ardStatusQuery) {
		if len(req) >= 4 && bytes.Equal(req[:4], ardStatusQuery[:4]) {
			return Reply{Content: fmt.Sprintf("query type 0x%02x", req[len(req)-1])}, fmt.Errorf("ard: query type: %w", ErrNoAnswer)
		}
		return Reply{}, malformed("ard", "not a status query")
	}
	return Reply{Content: "status query", Packets: [][]byte{append([]byte(nil), h.reply...)}}, nil
}
