package ics_test

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// The requests nmap's s7-info and PLCScan send.
var (
	s7CR    = mustHex("0300001611e00000001400c1020100c2020102c0010a")
	s7Setup = mustHex("0300001902f08032010000000000080000f0000001000101e0")
	s7SZL11 = mustHex("0300002102f080320700000000000800080001120411440100ff09000400110001")
	s7SZL1c = mustHex("0300002102f080320700000000000800080001120411440100ff090004001c0001")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestS7Conformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "s7", Config: "site: gate\n", Exchange: func(t testing.TB, c net.Conn) {
		if r := s7Exchange(t, c, s7CR); r[5] != 0xD0 {
			t.Fatalf("connection confirm % x", r)
		}
	}})
}

// s7Exchange sends one TPKT and returns the answer (TPKT included).
func s7Exchange(t testing.TB, c net.Conn, req []byte) []byte {
	t.Helper()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("answer to % x: %v", req, err)
	}
	body := make([]byte, int(binary.BigEndian.Uint16(hdr[2:]))-4)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// s7Job wraps an S7 job (param, data) in TPKT and COTP DT.
func s7Job(param, data []byte) []byte {
	pdu := []byte{0x32, 0x01, 0, 0, 0, 7, byte(len(param) >> 8), byte(len(param)), byte(len(data) >> 8), byte(len(data))}
	pdu = append(append(pdu, param...), data...)
	b := []byte{3, 0, 0, 0, 2, 0xF0, 0x80}
	b = append(b, pdu...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func item(tsize byte, count, db uint16, area byte, byteOff int) []byte {
	addr := byteOff << 3
	return []byte{0x12, 0x0A, 0x10, tsize, byte(count >> 8), byte(count), byte(db >> 8), byte(db), area, byte(addr >> 16), byte(addr >> 8), byte(addr)}
}

func TestNmapS7Info(t *testing.T) {
	nmap := need(t, "nmap")
	in := sensortest.Start(t, sensortest.Options{Factory: "s7", Config: "site: gate\nfacility: Kitagawa Gate 7\n"}, sensor.DefaultLimits())
	_, port, _ := net.SplitHostPort(in.Addr)
	out := run(t, nmap, "-n", "-Pn", "-sT", "-p", port, "--script", "+s7-info", "127.0.0.1")
	for _, want := range []string{"Module: 6ES7 214-1AG40-0XB0", "Basic Hardware: 6ES7 214-1AG40-0XB0", "Version: 4.2.3",
		"System Name: GC-3 GATE CONTROL", "Module Type: CPU 1214C DC/DC/DC", "Serial Number: GC3", "Plant Identification: Kitagawa Gate 7",
		"Copyright: Original Siemens Equipment"} {
		if !strings.Contains(out, want) {
			t.Errorf("s7-info lacks %q:\n%s", want, out)
		}
	}
	in.Recorder.WaitFor(t, "szl reads", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "ics.identify", func(e *event.Event) bool { return e.Int("szl_id") == 0x1c }) >= 1
	})
}

// TestS7ReadWrite reads the process image over S7 and writes a setpoint:
// DB1 holds the same values as the Modbus input registers, a DB2 write is
// seen by the writer only, and refused writes get item errors.
func TestS7ReadWrite(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "s7", Config: "site: gate\n"}, sensor.DefaultLimits())
	c := in.Dial(t, "")
	defer c.Close()
	s7Exchange(t, c, s7CR)
	if r := s7Exchange(t, c, s7Setup); r[8] != 0x03 || r[17] != 0 || r[18] != 0 {
		t.Fatalf("setup answer % x", r)
	}
	// The identity lists, laid out as s7-info reads them (it reads fixed
	// offsets: the order number at 43, the firmware version at 122).
	if r := s7Exchange(t, c, s7SZL11); len(r) != 125 || string(r[43:62]) != "6ES7 214-1AG40-0XB0" || r[121] != 'V' || r[122] != 4 || r[123] != 2 || r[124] != 3 {
		t.Errorf("SZL 0x11 answer % x", r)
	}
	if r := s7Exchange(t, c, s7SZL1c); len(r) != 41+7*34 || !strings.HasPrefix(string(r[111:143]), "Minamigawa Sluice Gate No.3\x00") {
		t.Errorf("SZL 0x1c answer % x", r)
	}
	// A Read Var that announces two items and carries none.
	if r := s7Exchange(t, c, s7Job([]byte{0x04, 2}, nil)); r[17] != 0x85 || r[18] != 0x00 {
		t.Errorf("malformed read answered % x", r)
	}
	read := func(items ...[]byte) []byte {
		p := []byte{0x04, byte(len(items))}
		for _, it := range items {
			p = append(p, it...)
		}
		return s7Exchange(t, c, s7Job(p, nil))
	}
	// DB2 bytes 0..3 (control mode, gate target) and Q0 as a byte.
	ans := read(item(0x02, 4, 2, 0x84, 0), item(0x02, 1, 0, 0x82, 0))
	data := ans[7+12+2:]
	if data[0] != 0xFF || data[1] != 0x04 || binary.BigEndian.Uint16(data[2:]) != 32 || data[4] != 0 || data[5] != 0 {
		t.Fatalf("DB2 read % x", data)
	}
	write := func(param, d []byte) []byte {
		return s7Exchange(t, c, s7Job(append([]byte{0x05, 1}, param...), d))
	}
	// Control mode 2 (manual): DB2.DBW0.
	if a := write(item(0x04, 1, 2, 0x84, 0), []byte{0, 0x04, 0, 16, 0, 2}); a[len(a)-1] != 0xFF {
		t.Fatalf("write DB2.DBW0 % x", a)
	}
	if a := write(item(0x04, 1, 1, 0x84, 0), []byte{0, 0x04, 0, 16, 0, 1}); a[len(a)-1] != 0x03 {
		t.Errorf("write to read-only DB1 answered % x", a)
	}
	if a := write(item(0x04, 1, 9, 0x84, 0), []byte{0, 0x04, 0, 16, 0, 1}); a[len(a)-1] != 0x0A {
		t.Errorf("write to missing DB9 answered % x", a)
	}
	ans = read(item(0x04, 1, 2, 0x84, 0), item(0x02, 200, 1, 0x84, 0))
	data = ans[7+12+2:]
	if data[4] != 0 || data[5] != 2 {
		t.Errorf("writer reads DB2.DBW0 % x, want 2", data[:6])
	}
	if data[6] != 0x05 {
		t.Errorf("read past DB1 answered % x, want 0x05", data[6:])
	}
	other := in.Dial(t, "")
	defer other.Close()
	s7Exchange(t, other, s7CR)
	s7Exchange(t, other, s7Setup)
	p := append([]byte{0x04, 1}, item(0x04, 1, 2, 0x84, 0)...)
	if d := s7Exchange(t, other, s7Job(p, nil))[7+12+2:]; d[5] != 0 {
		t.Errorf("another session reads DB2.DBW0 = %d", d[5])
	}
	// PLC stop is refused and recorded as a write.
	if a := s7Exchange(t, c, s7Job(mustHex("29000000000009505f50524f4752414d"), nil)); a[17] != 0x81 || a[18] != 0x04 {
		t.Errorf("plc stop answered % x", a)
	}
	evs := in.Recorder.WaitFor(t, "writes", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "ics.write", nil) >= 4 })
	found := false
	for _, e := range evs {
		if e.Kind == "ics.write" && e.Str("area") == "DB2" && e.Data["accepted"] == true {
			found = equalInts(e.Data["old"], 0, 0) && equalInts(e.Data["new"], 0, 2) && e.Str("severity") == "high"
		}
	}
	if !found {
		t.Error("no ics.write for DB2 with old and new bytes")
	}
}
