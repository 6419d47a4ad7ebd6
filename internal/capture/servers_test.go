package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tftpServer is a minimal RFC 1350 read-only server for the tests: it
// answers each RRQ from a new port, and can drop the first DATA packet to
// exercise the client's retransmission.
type tftpServer struct {
	files    map[string][]byte
	dropOnce atomic.Bool
	// beforeData, if set, runs once per transfer before the first DATA.
	beforeData func(client net.Addr)
	pc         net.PacketConn
	wg         sync.WaitGroup
}

func startTFTP(t *testing.T, files map[string][]byte, drop bool) *tftpServer {
	t.Helper()
	return startTFTPWith(t, files, drop, nil)
}

func startTFTPWith(t *testing.T, files map[string][]byte, drop bool, beforeData func(client net.Addr)) *tftpServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tftpServer{files: files, pc: pc, beforeData: beforeData}
	s.dropOnce.Store(drop)
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { pc.Close(); s.wg.Wait() })
	return s
}

func (s *tftpServer) port() int { return s.pc.LocalAddr().(*net.UDPAddr).Port }

func (s *tftpServer) serve() {
	defer s.wg.Done()
	buf := make([]byte, 1024)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n < 4 || binary.BigEndian.Uint16(buf) != tftpRRQ {
			continue
		}
		parts := strings.Split(string(buf[2:n]), "\x00")
		s.wg.Add(1)
		go s.transfer(from, parts[0], parts[1])
	}
}

func (s *tftpServer) transfer(to net.Addr, name, mode string) {
	defer s.wg.Done()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return
	}
	defer c.Close()
	data, ok := s.files[name]
	if !ok || mode != "octet" {
		c.WriteTo(tftpError(1, "File not found"), to)
		return
	}
	if s.beforeData != nil {
		s.beforeData(to)
	}
	buf := make([]byte, 1024)
	for block := 1; ; block++ {
		lo := (block - 1) * tftpBlock
		hi := min(lo+tftpBlock, len(data))
		pkt := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tftpDATA), uint16(block))
		pkt = append(pkt, data[lo:hi]...)
		for {
			if !(block == 1 && s.dropOnce.CompareAndSwap(true, false)) {
				c.WriteTo(pkt, to)
			}
			c.SetReadDeadline(deadline(3))
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			op := binary.BigEndian.Uint16(buf)
			if op == tftpERROR {
				return
			}
			if n >= 4 && op == tftpACK && int(binary.BigEndian.Uint16(buf[2:])) == block&0xffff {
				break
			}
		}
		if hi-lo < tftpBlock {
			return
		}
	}
}

// ftpServer is a minimal passive-mode FTP server for the tests.
type ftpServer struct {
	ln      net.Listener
	files   map[string][]byte
	user    string
	pass    string
	noEPSV  bool
	wg      sync.WaitGroup
	gotUser atomic.Value
}

func startFTP(t *testing.T, files map[string][]byte, user, pass string, noEPSV bool) *ftpServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &ftpServer{ln: ln, files: files, user: user, pass: pass, noEPSV: noEPSV}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.session(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *ftpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *ftpServer) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(deadline(10))
	r := bufio.NewReader(c)
	say := func(f string, a ...any) { fmt.Fprintf(c, f+"\r\n", a...) }
	say("220-Welcome\r\n220 (vsFTPd 3.0.3)")
	var dl net.Listener
	defer func() {
		if dl != nil {
			dl.Close()
		}
	}()
	user := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch verb {
		case "USER":
			user = arg
			s.gotUser.Store(arg)
			say("331 Please specify the password.")
		case "PASS":
			if user != s.user || arg != s.pass {
				say("530 Login incorrect.")
				continue
			}
			say("230 Login successful.")
		case "TYPE":
			say("200 Switching to Binary mode.")
		case "EPSV", "PASV":
			if verb == "EPSV" && s.noEPSV {
				say("500 Unknown command.")
				continue
			}
			dl, err = net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				return
			}
			p := dl.Addr().(*net.TCPAddr).Port
			if verb == "EPSV" {
				say("229 Entering Extended Passive Mode (|||%d|)", p)
			} else {
				// A hostile server may name any address; the client must ignore it.
				say("227 Entering Passive Mode (192,0,2,1,%d,%d).", p>>8, p&0xff)
			}
		case "RETR":
			data, ok := s.files[arg]
			if !ok || dl == nil {
				say("550 Failed to open file.")
				continue
			}
			say("150 Opening BINARY mode data connection for %s (%d bytes).", arg, len(data))
			dc, err := dl.Accept()
			if err != nil {
				return
			}
			dc.Write(data)
			dc.Close()
			say("226 Transfer complete.")
		case "QUIT":
			say("221 Goodbye.")
			return
		default:
			say("502 Command not implemented.")
		}
	}
}

var _ = io.EOF
