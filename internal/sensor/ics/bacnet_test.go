package ics_test

import (
	"encoding/binary"
	"math"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestBACnetConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "bacnet", Config: "site: solar\n"})
}

func startBACnet(t *testing.T, cfg string) (*sensortest.Instance, *net.UDPConn) {
	t.Helper()
	in := sensortest.Start(t, sensortest.Options{Factory: "bacnet", Config: cfg}, sensor.DefaultLimits())
	c, err := net.Dial("udp", in.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return in, c.(*net.UDPConn)
}

// bvlc wraps an APDU in BVLC (original unicast) and an NPDU expecting a reply.
func bvlc(apdu []byte) []byte {
	b := append([]byte{0x81, 0x0A, 0, 0, 0x01, 0x04}, apdu...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func readProp(typ, inst int, prop byte) []byte {
	id := uint32(typ)<<22 | uint32(inst)
	return bvlc([]byte{0x00, 0x05, 0x01, 0x0C, 0x0C, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), 0x19, prop})
}

func udpExchange(t *testing.T, c *net.UDPConn, req []byte) []byte {
	t.Helper()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to % x: %v", req, err)
	}
	return buf[:n]
}

func TestNmapBACnetInfo(t *testing.T) {
	nmap := need(t, "nmap")
	in, _ := startBACnet(t, "site: solar\n")
	_, port, _ := net.SplitHostPort(in.Addr)
	b, err := exec.Command(nmap, "-n", "-Pn", "-sU", "-p", port, "--script", "+bacnet-info", "127.0.0.1").CombinedOutput()
	out := string(b)
	if err != nil && strings.Contains(out, "root privileges") {
		t.Skip("nmap's UDP scan needs root (CAP_NET_RAW) here")
	}
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, want := range []string{"Vendor ID: Unknown Vendor Number (999)", "Vendor Name: SolarEye", "Object-identifier: 40011",
		"Firmware: 1.9.4", "Application Software: PV-M200 1.9.4", "Object Name: Hokuto Solar Power Plant 2",
		"Model Name: SolarEye PV-Monitor PV-M200", "Description: PV plant monitoring unit", "Location: Hokuto, Yamanashi"} {
		if !strings.Contains(out, want) {
			t.Errorf("bacnet-info lacks %q:\n%s", want, out)
		}
	}
}

// TestBACnetPoints reads and writes point objects: the plant output agrees
// with the Modbus map, a write is answered and seen by its source only,
// and unknown objects and properties get BACnet errors.
func TestBACnetPoints(t *testing.T) {
	in, c := startBACnet(t, "site: solar\n")
	// Unicode facility name from a site of its own name.
	r := udpExchange(t, c, readProp(8, 0x3FFFFF, 77))
	if r[6] != 0x30 || !strings.Contains(string(r), "Hokuto Solar Power Plant 2") {
		t.Errorf("object-name answer % x", r)
	}
	r = udpExchange(t, c, readProp(0, 1, 85)) // analog-input 1: plant power (kW)
	if r[6] != 0x30 || r[16] != 0x3E || r[17] != 0x44 {
		t.Fatalf("present-value answer % x", r)
	}
	if kw := math.Float32frombits(binary.BigEndian.Uint32(r[18:])); kw < 0 || kw > 49.5 {
		t.Errorf("plant power %.2f kW", kw)
	}
	if r := udpExchange(t, c, readProp(0, 99, 85)); r[6] != 0x50 || r[10] != 1 || r[12] != 31 {
		t.Errorf("unknown object answered % x", r)
	}
	if r := udpExchange(t, c, readProp(8, 40011, 200)); r[6] != 0x50 || r[10] != 2 || r[12] != 32 {
		t.Errorf("unknown property answered % x", r)
	}
	// analog-value 1 is the output limit (%): write 40 at priority 8.
	w := []byte{0x00, 0x05, 0x02, 0x0F, 0x0C, 0x00, 0x80, 0x00, 0x01, 0x19, 85, 0x3E, 0x44, 0x42, 0x20, 0, 0, 0x3F, 0x49, 8}
	if r := udpExchange(t, c, bvlc(w)); r[6] != 0x20 || r[8] != 0x0F {
		t.Fatalf("write answered % x", r)
	}
	r = udpExchange(t, c, readProp(2, 1, 85))
	if v := math.Float32frombits(binary.BigEndian.Uint32(r[18:])); v != 40 {
		t.Errorf("writer reads back %v", v)
	}
	// analog-value 0 (plant capacity) is read-only.
	w[8] = 0
	if r := udpExchange(t, c, bvlc(w)); r[6] != 0x50 || r[12] != 40 {
		t.Errorf("read-only write answered % x", r)
	}
	other, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}, c.RemoteAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	r = udpExchange(t, other, readProp(2, 1, 85))
	if v := math.Float32frombits(binary.BigEndian.Uint32(r[18:])); v != 100 {
		t.Errorf("another source reads %v, want the undisturbed 100", v)
	}
	// Who-Is gets I-Am with the device instance.
	r = udpExchange(t, c, []byte{0x81, 0x0B, 0, 8, 0x01, 0x00, 0x10, 0x08})
	if r[6] != 0x10 || r[7] != 0x00 || binary.BigEndian.Uint32(r[9:])&0x3FFFFF != 40011 {
		t.Errorf("I-Am % x", r)
	}
	evs := in.Recorder.WaitFor(t, "write event", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "ics.write", nil) == 2
	})
	for _, e := range evs {
		if e.Kind == "ics.write" && e.Data["accepted"] == true {
			if o, n := e.Data["old"].([]float64), e.Data["new"].([]float64); len(o) != 1 || o[0] != 100 || n[0] != 40 || e.Str("severity") != "high" || e.Transport != "udp" {
				t.Errorf("write event %+v", e)
			}
		}
	}
}

// TestBACnetBudget: one source gets at most its burst of replies however
// much it sends; the device is no reflector.
func TestBACnetBudget(t *testing.T) {
	_, c := startBACnet(t, "site: river\nreply_burst: 5\nreply_rate: 0.001\n")
	req := readProp(8, 0x3FFFFF, 76)
	for i := 0; i < 50; i++ {
		c.Write(req)
	}
	got := 0
	buf := make([]byte, 1500)
	for {
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			break
		}
		got++
	}
	if got > 5 || got == 0 {
		t.Fatalf("%d replies to 50 requests with a burst of 5", got)
	}
}
