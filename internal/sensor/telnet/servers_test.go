package telnet_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveTFTP is a minimal RFC 1350 read-only server on 127.0.0.1 (octet
// mode, one transfer port per request); it returns the port.
func serveTFTP(t *testing.T, files map[string][]byte) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 600)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 4 || binary.BigEndian.Uint16(buf) != 1 {
				continue
			}
			name := strings.Split(string(buf[2:n]), "\x00")[0]
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.ListenPacket("udp4", "127.0.0.1:0")
				if err != nil {
					return
				}
				defer c.Close()
				data, ok := files[name]
				if !ok {
					c.WriteTo(append([]byte{0, 5, 0, 1}, "File not found\x00"...), from)
					return
				}
				ack := make([]byte, 16)
				for block := 1; ; block++ {
					lo, hi := (block-1)*512, min(block*512, len(data))
					pkt := append([]byte{0, 3, byte(block >> 8), byte(block)}, data[lo:hi]...)
					c.WriteTo(pkt, from)
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, _, err := c.ReadFrom(ack); err != nil {
						return
					}
					if hi-lo < 512 {
						return
					}
				}
			}()
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// serveFTP is a minimal anonymous passive-mode FTP server on 127.0.0.1.
func serveFTP(t *testing.T, files map[string][]byte) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				say := func(f string, a ...any) { fmt.Fprintf(c, f+"\r\n", a...) }
				say("220 (vsFTPd 3.0.3)")
				var dl net.Listener
				defer func() {
					if dl != nil {
						dl.Close()
					}
				}()
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
					switch verb {
					case "USER":
						say("331 Please specify the password.")
					case "PASS":
						say("230 Login successful.")
					case "TYPE":
						say("200 Switching to Binary mode.")
					case "EPSV", "PASV":
						if dl, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
							return
						}
						p := dl.Addr().(*net.TCPAddr).Port
						if verb == "EPSV" {
							say("229 Entering Extended Passive Mode (|||%d|)", p)
						} else {
							say("227 Entering Passive Mode (127,0,0,1,%d,%d).", p>>8, p&0xff)
						}
					case "RETR":
						data, ok := files[strings.TrimPrefix(arg, "/")]
						if !ok || dl == nil {
							say("550 Failed to open file.")
							continue
						}
						say("150 Opening BINARY mode data connection.")
						if dc, err := dl.Accept(); err == nil {
							dc.Write(data)
							dc.Close()
						}
						say("226 Transfer complete.")
					case "QUIT":
						say("221 Goodbye.")
						return
					default:
						say("502 Command not implemented.")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}
