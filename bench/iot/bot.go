package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kansoku/kansoku/internal/sensor"
)

const marker = "ECCHI: applet not found"

// probes are the Mirai loader's probes (loader/src/server.c), each followed
// by the nonexistent applet whose error marks the end of its output.
var probes = []string{
	"/bin/busybox ps",
	"/bin/busybox cat /proc/mounts",
	"/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/tmp' > /tmp/.nippon; /bin/busybox cat /tmp/.nippon; /bin/busybox rm /tmp/.nippon",
	"/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon; /bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon",
	"cd /tmp",
	"/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper",
	"/bin/busybox dd bs=52 count=1 if=/bin/echo", // the ELF header tells the CPU
	"/bin/busybox cat /proc/cpuinfo",
	"/bin/busybox uname -a",
	"/bin/busybox free",
}

// dropperLines are 478 lines of 128 bytes each (61,184 bytes), built once,
// each with its CR LF, ready to send as the loader does.
var dropperLines = func() [][]byte {
	data := make([]byte, 478*128)
	rand.Read(data)
	copy(data, "\x7fELF\x01\x01\x01")
	var out [][]byte
	for i := 0; i < len(data); i += 128 {
		var b strings.Builder
		for _, c := range data[i : i+128] {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
		op := ">>"
		if i == 0 {
			op = ">"
		}
		out = append(out, fmt.Appendf(nil, "/bin/busybox echo -ne '%s' %s dvrHelper; /bin/busybox ECCHI\r\n", b.String(), op))
	}
	return out
}()

type bot struct {
	c     net.Conn
	r     *bufio.Reader
	trips int
	buf   []byte
	tail  []byte
}

// until reads until s has arrived; it keeps only what could be the start
// of s between reads, so a long output costs no memory.
func (b *bot) until(s string) error {
	if b.buf == nil {
		b.buf = make([]byte, 16<<10)
	}
	want := []byte(s)
	b.tail = b.tail[:0]
	for {
		n, err := b.r.Read(b.buf)
		chunk := b.buf[:n]
		if len(b.tail) > 0 {
			b.tail = append(b.tail, chunk[:min(n, len(want))]...)
			if bytes.Contains(b.tail, want) {
				return nil
			}
		}
		if bytes.Contains(chunk, want) {
			return nil
		}
		k := max(0, n-len(want)+1)
		b.tail = append(b.tail[:0], chunk[k:]...)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("eof waiting for %q", s)
			}
			return err
		}
	}
}

func (b *bot) trip(send, want string) error {
	return b.tripBytes([]byte(send), want)
}

func (b *bot) tripBytes(send []byte, want string) error {
	b.trips++
	if _, err := b.c.Write(send); err != nil {
		return err
	}
	return b.until(want)
}

func (b *bot) login() error {
	if err := b.until("login: "); err != nil {
		return err
	}
	if err := b.trip("root\r\n", "Password: "); err != nil {
		return err
	}
	if err := b.trip("xc3511\r\n", "# "); err != nil {
		return err
	}
	return nil
}

// session runs one bot session: login, escapes, probes, and with full the
// echo dropper and its execution (492 round trips).
func session(addr string, full bool) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	// One deadline for the whole session (a stuck sensor fails the
	// session) rather than one per round trip.
	c.SetReadDeadline(time.Now().Add(10 * time.Minute))
	b := &bot{c: c, r: bufio.NewReaderSize(c, 8192)}
	if err := b.login(); err != nil {
		return b.trips, err
	}
	if err := b.trip("enable\r\nsystem\r\nshell\r\nsh\r\n/bin/busybox ECCHI\r\n", marker); err != nil {
		return b.trips, err
	}
	for _, p := range probes {
		if err := b.trip(p+"; /bin/busybox ECCHI\r\n", marker); err != nil {
			return b.trips, err
		}
	}
	if !full {
		return b.trips, nil
	}
	for _, l := range dropperLines {
		if err := b.tripBytes(l, marker); err != nil {
			return b.trips, err
		}
	}
	if err := b.trip("./dvrHelper telnet.loader; /bin/busybox IHCCE\r\n", "IHCCE: applet not found"); err != nil {
		return b.trips, err
	}
	return b.trips, nil
}

func decodeYAML(src string) sensor.Decode {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
}
