package proto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

func init() {
	register(Protocol{Name: "tftp", Port: 69, DefaultListen: "127.0.0.1:10069", New: newTFTP})
}

// tftpHandler is a PXE boot server's TFTP: a read request for a file it
// has gets the first 512-byte DATA block, anything else an ERROR. Only the
// first block is sent: a real server would wait for an ACK (and retransmit),
// which a spoofed victim never sends.
type tftpHandler struct {
	files map[string][]byte
}

func newTFTP(id Identity, _ Options) (Handler, error) {
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "! %s startup-config\n!\nversion 15.2\nservice timestamps debug datetime msec\nservice timestamps log datetime msec\nno service password-encryption\n!\nhostname %s\n!\n", id.Hostname, id.Hostname)
	fmt.Fprintf(&cfg, "boot-start-marker\nboot-end-marker\n!\nenable secret 5 $1$%s$%s\n!\nno aaa new-model\n!\nip domain name %s\nip name-server 192.0.2.53\n!\n", id.Serial[:4], strings.ReplaceAll(id.UUID[:22], "-", "."), id.Domain)
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&cfg, "interface GigabitEthernet0/%d\n description uplink-%d\n ip address %s 255.255.255.0\n duplex auto\n speed auto\n!\n", i, i, id.LANHost(1+i))
	}
	cfg.WriteString("line con 0\nline vty 0 4\n login local\n transport input ssh telnet\n!\nend\n")
	pxe := fmt.Sprintf("DEFAULT menu.c32\nPROMPT 0\nTIMEOUT 100\nMENU TITLE %s PXE Boot Menu\n\nLABEL local\n  MENU LABEL Boot from local disk\n  LOCALBOOT 0\n\nLABEL debian\n  MENU LABEL Install Debian 12\n  KERNEL debian-installer/amd64/linux\n  APPEND vga=788 initrd=debian-installer/amd64/initrd.gz auto=true priority=critical url=http://%s/preseed.cfg --- quiet\n\nLABEL memtest\n  MENU LABEL Memtest86+\n  KERNEL memtest86+.bin\n",
		id.Hostname, id.LANHost(1))
	return &tftpHandler{files: map[string][]byte{
		"startup-config":       []byte(cfg.String()),
		"running-config":       []byte(cfg.String()),
		"pxelinux.cfg/default": []byte(pxe),
	}}, nil
}

func tftpError(code uint16, msg string) []byte {
	b := []byte{0, 5}
	b = binary.BigEndian.AppendUint16(b, code)
	b = append(b, msg...)
	return append(b, 0)
}

func (h *tftpHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 4 || len(req) > 512 {
		return Reply{}, malformed("tftp", "datagram of %d bytes", len(req))
	}
	op := binary.BigEndian.Uint16(req)
	if op != 1 && op != 2 {
		if op >= 3 && op <= 6 {
			return Reply{Content: fmt.Sprintf("opcode %d", op), Packets: [][]byte{tftpError(5, "Unknown transfer ID")}}, nil
		}
		return Reply{}, malformed("tftp", "opcode %d", op)
	}
	parts := bytes.Split(req[2:], []byte{0})
	if len(parts) < 3 || len(parts[0]) == 0 || len(parts[1]) == 0 {
		return Reply{}, malformed("tftp", "request fields")
	}
	file, mode := string(parts[0]), strings.ToLower(string(parts[1]))
	content := fmt.Sprintf("%s %s %s", map[uint16]string{1: "RRQ", 2: "WRQ"}[op], clip(file, 200), clip(mode, 16))
	if mode != "octet" && mode != "netascii" && mode != "mail" {
		return Reply{Content: content, Packets: [][]byte{tftpError(4, "Illegal TFTP operation")}}, nil
	}
	if op == 2 {
		return Reply{Content: content, Packets: [][]byte{tftpError(2, "Access violation")}}, nil
	}
	data, ok := h.files[strings.TrimPrefix(file, "/")]
	if !ok {
		return Reply{Content: content, Packets: [][]byte{tftpError(1, "File not found")}}, nil
	}
	b := []byte{0, 3, 0, 1}
	return Reply{Content: content, Packets: [][]byte{append(b, data[:min(512, len(data))]...)}}, nil
}
