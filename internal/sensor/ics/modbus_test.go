package ics_test

import (
	"context"
	"encoding/binary"
	"errors"
	"github.com/kansoku/kansoku/internal/scan"
	scanmodbus "github.com/kansoku/kansoku/internal/scan/modules/modbus"
	"github.com/kansoku/kansoku/internal/sensor/ics"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/simonvetter/modbus"
)

func TestModbusConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "modbus", Config: "site: river\n", Exchange: func(t testing.TB, c net.Conn) {
		resp := exchange(t, c, 1, []byte{0x04, 0, 0, 0, 2})
		if resp[0] != 0x04 || resp[1] != 4 {
			t.Fatalf("read input registers: % x", resp)
		}
	}})
}

func startModbus(t testing.TB, cfg string) *sensortest.Instance {
	t.Helper()
	return sensortest.Start(t, sensortest.Options{Factory: "modbus", Config: cfg}, sensor.DefaultLimits())
}

// exchange sends one MBAP request and returns the response PDU.
func exchange(t testing.TB, c net.Conn, unit byte, pdu []byte) []byte {
	t.Helper()
	req := make([]byte, 7, 7+len(pdu))
	binary.BigEndian.PutUint16(req, 0x1234)
	binary.BigEndian.PutUint16(req[4:], uint16(len(pdu)+1))
	req[6] = unit
	if _, err := c.Write(append(req, pdu...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	hdr := make([]byte, 7)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("read response to % x: %v", pdu, err)
	}
	if binary.BigEndian.Uint16(hdr) != 0x1234 || hdr[6] != unit || binary.BigEndian.Uint16(hdr[2:]) != 0 {
		t.Fatalf("bad MBAP header % x", hdr)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[4:])-1)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return body
}

func client(t testing.TB, in *sensortest.Instance, unit uint8) *modbus.ModbusClient {
	t.Helper()
	mc, err := modbus.NewClient(&modbus.ClientConfiguration{URL: "tcp://" + in.Addr, Timeout: sensortest.Wait})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	mc.SetUnitId(unit)
	return mc
}

// TestSimonvetterClient drives the river station with the simonvetter
// client: process values in plausible ranges, a write seen by the writer
// only, and the exceptions a device returns.
func TestSimonvetterClient(t *testing.T) {
	in := startModbus(t, "site: river\n")
	mc := client(t, in, 1)
	regs, err := mc.ReadRegisters(0, 6, modbus.INPUT_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if regs[0] < 50 || regs[0] > 700 { // water level in cm
		t.Errorf("water level %d cm out of range", regs[0])
	}
	if regs[3] < 1100 || regs[3] > 1400 { // battery in 0.01 V
		t.Errorf("battery %d out of range", regs[3])
	}
	gauge := client(t, in, 2)
	f, err := gauge.ReadFloat32(2, modbus.INPUT_REGISTER)
	if err != nil {
		t.Fatal(err)
	}
	if d := float64(f) - float64(regs[0])/100; d > 0.02 || d < -0.02 {
		t.Errorf("gauge %.3f m and logger %d cm disagree", f, regs[0])
	}
	old, err := mc.ReadRegister(1, modbus.HOLDING_REGISTER)
	if err != nil || old != 320 {
		t.Fatalf("alarm level %d %v", old, err)
	}
	if err := mc.WriteRegister(1, 999); err != nil {
		t.Fatal(err)
	}
	if v, _ := mc.ReadRegister(1, modbus.HOLDING_REGISTER); v != 999 {
		t.Errorf("writer reads back %d, want 999", v)
	}
	if err := mc.WriteCoil(0, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := mc.ReadCoils(0, 3); !c[0] || c[1] || !c[2] {
		t.Errorf("coils after write %v", c)
	}
	other := client(t, in, 1)
	if v, _ := other.ReadRegister(1, modbus.HOLDING_REGISTER); v != 320 {
		t.Errorf("another session sees %d: writes must stay in the writer's session", v)
	}
	exceptions := []struct {
		name string
		do   func() error
		want error
	}{
		{"unmapped address", func() error { _, err := mc.ReadRegisters(5, 2, modbus.INPUT_REGISTER); return err }, modbus.ErrIllegalDataAddress},
		{"read-only register", func() error { return gauge.WriteRegister(0, 7) }, modbus.ErrIllegalDataAddress},
		{"bad coil value", func() error { return mc.WriteCoilValue(0, 0x1234) }, modbus.ErrIllegalDataValue},
		{"coil beyond map", func() error { _, err := mc.ReadCoils(0, 4); return err }, modbus.ErrIllegalDataAddress},
		{"multiple write past map", func() error { return mc.WriteRegisters(3, []uint16{1, 2, 3}) }, modbus.ErrIllegalDataAddress},
	}
	for _, tc := range exceptions {
		if err := tc.do(); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	unknown := client(t, in, 9)
	if _, err := unknown.ReadRegisters(0, 1, modbus.INPUT_REGISTER); !errors.Is(err, modbus.ErrGWTargetFailedToRespond) {
		t.Errorf("unit 9 behind the gateway: %v, want gateway target failed to respond", err)
	}
	evs := in.Recorder.WaitFor(t, "writes", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "ics.write", nil) >= 5
	})
	var w *event.Event
	for _, e := range evs {
		if e.Kind == "ics.write" && e.Int("function") == 6 && e.Data["accepted"] == true {
			w = e
		}
	}
	if w == nil || w.Str("severity") != "high" || !equalInts(w.Data["old"], 320) || !equalInts(w.Data["new"], 999) || w.Int("address") != 1 {
		t.Fatalf("ics.write event %+v", w)
	}
	if n := sensortest.Count(evs, "ics.read", nil); n < 6 {
		t.Errorf("%d ics.read events", n)
	}
}

func equalInts(v any, want ...int) bool {
	got, ok := v.([]int)
	if !ok || len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestUnitIDs: a gateway answers unknown unit ids with 0x0B, a device
// closes the connection; both serve 0 and 255 as themselves.
func TestUnitIDs(t *testing.T) {
	for _, tc := range []struct {
		site    string
		unit    byte
		want    []byte // nil: the connection is closed
		answers bool
	}{
		{"river", 0, nil, true},
		{"river", 255, nil, true},
		{"river", 2, nil, true},
		{"river", 77, []byte{0x84, 0x0B}, true},
		{"gate", 1, nil, true},
		{"gate", 0, nil, true},
		{"gate", 2, nil, false},
		{"gate", 246, nil, false},
		{"river", 2, nil, true},
	} {
		in := startModbus(t, "site: "+tc.site+"\n")
		c := in.Dial(t, "")
		req := []byte{0, 1, 0, 0, 0, 6, tc.unit, 0x04, 0, 0, 0, 1}
		c.Write(req)
		c.SetReadDeadline(time.Now().Add(sensortest.Wait))
		n := 11
		if tc.want != nil {
			n = 9
		}
		b, err := io.ReadAll(io.LimitReader(c, int64(n)))
		c.Close()
		if !tc.answers {
			if err != nil || len(b) != 0 {
				t.Errorf("%s unit %d: got % x %v, want a close", tc.site, tc.unit, b, err)
			}
			continue
		}
		if len(b) < 9 {
			t.Errorf("%s unit %d: short answer % x %v", tc.site, tc.unit, b, err)
			continue
		}
		if tc.want != nil && string(b[7:9]) != string(tc.want) {
			t.Errorf("%s unit %d: answer % x, want % x", tc.site, tc.unit, b[7:9], tc.want)
		}
		if tc.want == nil && b[7] != 0x04 {
			t.Errorf("%s unit %d: answer % x", tc.site, tc.unit, b)
		}
	}
}

// TestFrames checks the exact bytes of answers to hand-made requests.
func TestFrames(t *testing.T) {
	in := startModbus(t, "site: river\n")
	c := in.Dial(t, "")
	defer c.Close()
	for _, tc := range []struct {
		name     string
		unit     byte
		req, res []byte
	}{
		{"holding", 1, []byte{0x03, 0, 0, 0, 2}, []byte{0x03, 4, 0x01, 0x04, 0x01, 0x40}},
		{"write single echoes", 1, []byte{0x06, 0, 2, 0x01, 0x2c}, []byte{0x06, 0, 2, 0x01, 0x2c}},
		{"write multiple", 1, []byte{0x10, 0, 3, 0, 2, 4, 0xff, 0xf6, 0, 9}, []byte{0x10, 0, 3, 0, 2}},
		{"read back", 1, []byte{0x03, 0, 2, 0, 3}, []byte{0x03, 6, 0x01, 0x2c, 0xff, 0xf6, 0, 9}},
		{"read/write multiple", 1, []byte{0x17, 0, 0, 0, 2, 0, 0, 0, 1, 2, 0, 200}, []byte{0x17, 4, 0, 200, 0x01, 0x40}},
		{"byte count mismatch", 1, []byte{0x10, 0, 0, 0, 2, 3, 0, 0, 0}, []byte{0x90, 0x03}},
		{"write coils", 1, []byte{0x0F, 0, 0, 0, 3, 1, 0b011}, []byte{0x0F, 0, 0, 0, 3}},
		{"coils", 1, []byte{0x01, 0, 0, 0, 3}, []byte{0x01, 1, 0b011}},
		{"discrete", 1, []byte{0x02, 0, 2, 0, 2}, []byte{0x02, 1, 0}},
		{"quantity 0", 1, []byte{0x04, 0, 0, 0, 0}, []byte{0x84, 0x03}},
		{"short pdu", 1, []byte{0x03, 0, 0}, []byte{0x83, 0x03}},
		{"diagnostics unsupported", 1, []byte{0x08, 0, 0, 0x12, 0x34}, []byte{0x88, 0x01}},
		{"unknown function", 1, []byte{0x41}, []byte{0xC1, 0x01}},
		{"other MEI type", 1, []byte{0x2B, 0x0D, 0, 0}, []byte{0xAB, 0x01}},
		{"bad read code", 1, []byte{0x2B, 0x0E, 5, 0}, []byte{0xAB, 0x03}},
		{"missing object", 1, []byte{0x2B, 0x0E, 4, 0x42}, []byte{0xAB, 0x02}},
		{"basic identity", 0, []byte{0x2B, 0x0E, 1, 0}, append(append(append([]byte{0x2B, 0x0E, 1, 0x83, 0, 0, 3, 0, 23}, "Kansoku Keiki Co., Ltd."...), append([]byte{1, 6}, "SL-200"...)...), append([]byte{2, 5}, "2.1.7"...)...)},
		{"one object", 1, []byte{0x2B, 0x0E, 4, 1}, append([]byte{0x2B, 0x0E, 4, 0x83, 0, 0, 1, 1, 6}, "SL-200"...)},
	} {
		got := exchange(t, c, tc.unit, tc.req)
		if string(got) != string(tc.res) {
			t.Errorf("%s: % x, want % x", tc.name, got, tc.res)
		}
	}
	sid := exchange(t, c, 1, []byte{0x11})
	if sid[0] != 0x11 || int(sid[1]) != len(sid)-2 || sid[2] != 0x01 || sid[3] != 0xFF || !strings.HasPrefix(string(sid[4:]), "SL-200 2.1.7 SL2W") {
		t.Errorf("report server id % x", sid)
	}
	// A frame that is not Modbus/TCP ends the session.
	c.Write([]byte{0, 1, 0, 7, 0, 6, 1, 3, 0, 0, 0, 1})
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Errorf("protocol id 7 answered with %d bytes", n)
	}
	in.Recorder.WaitFor(t, "malformed", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "ics.malformed", nil) == 1 })
}

// TestGateDrives: writing the gate target moves the gate opening in the
// writer's session, and starting a pump shows it running there.
func TestGateDrives(t *testing.T) {
	in := startModbus(t, "site: gate\n")
	mc := client(t, in, 1)
	if err := mc.WriteRegister(0, 1); err != nil {
		t.Fatal(err)
	}
	if err := mc.WriteRegister(1, 1001); !errors.Is(err, modbus.ErrIllegalDataValue) {
		t.Fatalf("gate target above 100%%: %v", err)
	}
	if err := mc.WriteCoil(1, true); err != nil {
		t.Fatal(err)
	}
	d, err := mc.ReadDiscreteInputs(0, 2)
	if err != nil || !d[1] {
		t.Fatalf("pump 2 running after start: %v %v", d, err)
	}
	if err := mc.WriteCoil(0, true); err != nil {
		t.Fatal(err)
	}
	cur, _ := mc.ReadRegister(3, modbus.INPUT_REGISTER)
	if cur < 400 || cur > 420 {
		t.Errorf("pump 1 current %d (0.1 A) after start", cur)
	}
	other := client(t, in, 1)
	if d, _ := other.ReadDiscreteInputs(0, 2); d[1] {
		t.Log("pump 2 runs in the undisturbed process too (high water)")
	}
}

func TestMbpoll(t *testing.T) {
	mbpoll := need(t, "mbpoll")
	in := startModbus(t, "site: river\n")
	host, port, _ := net.SplitHostPort(in.Addr)
	// mbpoll counts references from 1: -r 1 is address 0.
	out := run(t, mbpoll, "-m", "tcp", "-p", port, "-a", "1", "-t", "4", "-r", "1", "-c", "3", "-1", "-o", "5", host)
	for _, want := range []string{"[1]: \t260", "[2]: \t320", "[3]: \t600"} {
		if !strings.Contains(out, want) {
			t.Errorf("mbpoll read lacks %q:\n%s", want, out)
		}
	}
	out = run(t, mbpoll, "-m", "tcp", "-p", port, "-a", "1", "-t", "4", "-r", "2", "-1", "-o", "5", host, "450")
	if !strings.Contains(out, "Written 1 references") {
		t.Errorf("mbpoll write:\n%s", out)
	}
	out = run(t, mbpoll, "-m", "tcp", "-p", port, "-a", "1", "-t", "3", "-r", "1", "-c", "5", "-1", "-o", "5", host)
	if !strings.Contains(out, "[1]: \t") || !strings.Contains(out, "[5]: \t") {
		t.Errorf("mbpoll input registers:\n%s", out)
	}
	cmd := exec.Command(mbpoll, "-m", "tcp", "-p", port, "-a", "1", "-t", "3", "-r", "7", "-c", "2", "-1", "-o", "5", host)
	b, _ := cmd.CombinedOutput()
	if !strings.Contains(strings.ToLower(string(b)), "illegal data address") {
		t.Errorf("mbpoll on an unmapped address:\n%s", b)
	}
	evs := in.Recorder.WaitFor(t, "mbpoll write", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "ics.write", nil) == 1 })
	for _, e := range evs {
		if e.Kind == "ics.write" && (!equalInts(e.Data["old"], 320) || !equalInts(e.Data["new"], 450)) {
			t.Errorf("write event old %v new %v", e.Data["old"], e.Data["new"])
		}
	}
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (scripts/deps/ics.apt lists it): %v", tool, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestNmapModbusDiscover runs nmap's modbus-discover over every unit id:
// the gateway's logger answers with the profile's identity, the other
// unit ids get exceptions promptly.
func TestNmapModbusDiscover(t *testing.T) {
	nmap := need(t, "nmap")
	for _, site := range []struct{ name, ident string }{
		{"river", "Kansoku Keiki Co., Ltd. SL-200 2.1.7"},
		{"gate", "AquaGate Systems GC-3 3.0.12"},
	} {
		in := startModbus(t, "site: "+site.name+"\n")
		_, port, _ := net.SplitHostPort(in.Addr)
		// "+" runs the script on a port other than 502.
		out := run(t, nmap, "-n", "-Pn", "-sT", "-p", port, "--script", "+modbus-discover", "--script-args", "modbus-discover.aggressive=true", "127.0.0.1")
		if !strings.Contains(out, "Device identification: "+site.ident) || !strings.Contains(out, "sid 0x1:") {
			t.Errorf("%s: nmap modbus-discover:\n%s", site.name, out)
		}
		if site.name == "river" && (!strings.Contains(out, "sid 0x2: \n|     error: ILLEGAL FUNCTION") || !strings.Contains(out, "sid 0xf6: \n|_    error: GATEWAY TARGET DEVICE FAILED TO RESPOND")) {
			t.Errorf("river gateway: want unit 2 and exceptions for the rest:\n%s", out)
		}
	}
}

// TestScannerClassifies runs the project's own scanner module against each
// site and classifies the result: it must be the profile's device class.
func TestScannerClassifies(t *testing.T) {
	for _, id := range ics.Sites() {
		site, err := ics.LoadSite(id)
		if err != nil {
			t.Fatal(err)
		}
		in := startModbus(t, "site: "+id+"\n")
		ap := netip.MustParseAddrPort(in.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), sensortest.Wait)
		st, res, err := scanmodbus.Module{}.Scan(ctx, scan.Target{IP: ap.Addr(), Port: ap.Port(), Timeout: sensortest.Wait})
		cancel()
		if st != scan.StatusSuccess {
			t.Fatalf("%s: scan %s %v", id, st, err)
		}
		hr := &scan.HostResult{IP: ap.Addr(), Port: ap.Port(), Data: map[string]scan.ModuleResult{"modbus": {Status: st, Result: res}}}
		scan.Classify(scan.DefaultRules(), hr)
		if hr.Classification == nil || hr.Classification.DeviceType != site.DeviceClass || hr.Classification.Class != scan.ClassCritical {
			t.Errorf("%s: classified %+v, want %s", id, hr.Classification, site.DeviceClass)
		}
		r := res.(*scanmodbus.Result)
		if r.Vendor != site.Identity.Vendor || r.ProductCode != site.Identity.ProductCode {
			t.Errorf("%s: scanner read %+v", id, r)
		}
	}
}
