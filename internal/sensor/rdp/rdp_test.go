package rdp_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/rdp"
	"github.com/kansoku/kansoku/internal/sensortest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var opts = sensortest.Options{Factory: "rdp", Config: "hostname: RDS01\ndomain: CORP\n"}

func TestConformance(t *testing.T) {
	o := opts
	o.Exchange = func(t testing.TB, c net.Conn) {
		c.Write(connectionRequest("alice", rdp.ProtoSSL|rdp.ProtoHybrid))
	}
	sensortest.Run(t, o)
}

func lastOf(evs []*event.Event, kind string) *event.Event {
	var out *event.Event
	for _, e := range evs {
		if e.Kind == kind {
			out = e
		}
	}
	return out
}

// TestLogonCaptured runs the Go client's logon attempt and checks what a
// cracker gets: the hashcat line verifies against the password.
func TestLogonCaptured(t *testing.T) {
	in := sensortest.Start(t, opts, sensor.DefaultLimits())
	c := in.Dial(t, "")
	defer c.Close()
	cl := &rdpClient{User: "administrator", Password: "Winter2026!", Domain: "CORP", Workstation: "KALI", Cookie: "administr",
		Protocols: rdp.ProtoSSL | rdp.ProtoHybrid | rdp.ProtoHybridEx, TLS: &tls.Config{InsecureSkipVerify: true}}
	res, err := cl.logon(c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Selected != rdp.ProtoHybridEx || res.ErrorCode != 0xc000006d {
		t.Errorf("selected %#x error code %#x, want hybrid_ex and STATUS_LOGON_FAILURE", res.Selected, res.ErrorCode)
	}
	if got := avString(res.TargetInfo[2]); got != "CORP" {
		t.Errorf("NetBIOS domain %q", got)
	}
	if got := avString(res.TargetInfo[3]); got != "RDS01.corp.local" {
		t.Errorf("DNS computer name %q", got)
	}
	if res.Version[0] != 10 || binary.LittleEndian.Uint16(res.Version[2:]) != 17763 {
		t.Errorf("version %x", res.Version)
	}
	evs := in.Recorder.WaitFor(t, "login.failed", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "login.failed", nil) == 1 })
	e := lastOf(evs, "login.failed")
	if e.Text("username") != "administrator" || e.Text("domain") != "CORP" || e.Text("workstation") != "KALI" || e.Int("hashcat_mode") != 5600 {
		t.Fatalf("login.failed %v", e.Data)
	}
	if err := verifyNetNTLMv2(e.Text("hash"), "Winter2026!"); err != nil {
		t.Fatal(err)
	}
	if err := verifyNetNTLMv2(e.Text("hash"), "Winter2025!"); err == nil {
		t.Fatal("the hash verifies against a wrong password")
	}
	if !strings.Contains(e.Text("hash"), hex.EncodeToString(res.Challenge[:])) {
		t.Error("hash does not carry the server challenge")
	}
	cr := lastOf(evs, "rdp.connect_request")
	if cr.Text("cookie") != "administr" || cr.Str("selected_protocol") != "hybrid_ex" {
		t.Errorf("connect request %v", cr.Data)
	}
	if n := lastOf(evs, "rdp.ntlm_negotiate"); n == nil || n.Str("client_os_version") != "10.0.19041" || n.Str("ja3") == "" {
		t.Errorf("ntlm negotiate %v", n)
	}
}

// TestNTLMv2Vector checks the test's own verifier against MS-NLMP 4.2.4.
func TestNTLMv2Vector(t *testing.T) {
	key := ntowfv2("Password", "User", "Domain")
	if hex.EncodeToString(key) != "0c868a403bfd7a93a3001ef22ef02e3f" {
		t.Fatalf("NTOWFv2 %x", key)
	}
}

func TestNegotiation(t *testing.T) {
	tests := []struct {
		name      string
		config    string
		protocols uint32
		selected  uint32
		failure   uint32
	}{
		{"nla", "", rdp.ProtoSSL | rdp.ProtoHybrid, rdp.ProtoHybrid, 0},
		{"nla ex", "", 0xb, rdp.ProtoHybridEx, 0},
		{"tls only", "", rdp.ProtoSSL, rdp.ProtoSSL, 0},
		{"standard security", "", 0, 0, 0},
		{"rdstls only", "", rdp.ProtoRDSTLS, 0, 2},
		{"nla required: standard", "legacy_security: false\n", 0, 0, 5},
		{"nla required: tls", "legacy_security: false\n", rdp.ProtoSSL, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := sensortest.Start(t, sensortest.Options{Factory: "rdp", Config: tc.config}, sensor.DefaultLimits())
			c := in.Dial(t, "")
			defer c.Close()
			c.Write(connectionRequest("scan", tc.protocols))
			cc, err := readTPKT(c)
			if err != nil {
				t.Fatal(err)
			}
			code := binary.LittleEndian.Uint32(cc[11:])
			if tc.failure != 0 {
				if cc[7] != 3 || code != tc.failure {
					t.Fatalf("confirm %x, want failure %d", cc, tc.failure)
				}
				return
			}
			if cc[7] != 2 || code != tc.selected {
				t.Fatalf("confirm %x, want selected %#x", cc, tc.selected)
			}
		})
	}
}

// connectInitial builds an X.224 data TPDU with an MCS Connect Initial
// whose client network data asks for channels, as BlueKeep scanners do.
func connectInitial(channels ...string) []byte {
	core := make([]byte, 4+212)
	binary.LittleEndian.PutUint16(core, 0xc001)
	binary.LittleEndian.PutUint16(core[2:], uint16(len(core)))
	binary.LittleEndian.PutUint32(core[4:], 0x80004)
	binary.LittleEndian.PutUint16(core[8:], 1024)
	binary.LittleEndian.PutUint16(core[10:], 768)
	binary.LittleEndian.PutUint32(core[16:], 0x409)
	binary.LittleEndian.PutUint32(core[20:], 2600)
	copy(core[24:], utf16LE("rdpscan"))
	netb := make([]byte, 8, 8+12*len(channels))
	binary.LittleEndian.PutUint16(netb, 0xc003)
	binary.LittleEndian.PutUint16(netb[2:], uint16(8+12*len(channels)))
	binary.LittleEndian.PutUint32(netb[4:], uint32(len(channels)))
	for _, ch := range channels {
		var e [12]byte
		copy(e[:8], ch)
		netb = append(netb, e[:]...)
	}
	blocks := append(core, netb...)
	gcc := []byte{0, 5, 0, 0x14, 0x7c, 0, 1, 0x81, 0x2a, 0, 8, 0, 0x10, 0, 1, 0xc0, 0}
	gcc = append(gcc, "Duca"...)
	gcc = append(gcc, 0x80|byte(len(blocks)>>8), byte(len(blocks)))
	gcc = append(gcc, blocks...)
	body := []byte{4, 1, 1, 4, 1, 1, 1, 1, 0xff}
	body = append(body, 4, 0x82, byte(len(gcc)>>8), byte(len(gcc)))
	body = append(body, gcc...)
	mcs := append([]byte{0x7f, 0x65, 0x82, byte(len(body) >> 8), byte(len(body))}, body...)
	return tpktWrap(append([]byte{2, 0xf0, 0x80}, mcs...))
}

func TestBlueKeepProbe(t *testing.T) {
	for _, tc := range []struct {
		name      string
		protocols uint32
		channels  []string
		bluekeep  bool
	}{
		{"standard security", 0, []string{"rdpdr", "MS_T120", "rdpsnd"}, true},
		{"tls", rdp.ProtoSSL, []string{"MS_T120"}, true},
		{"ordinary client", 0, []string{"rdpdr", "cliprdr"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := sensortest.Start(t, opts, sensor.DefaultLimits())
			c := in.Dial(t, "")
			defer c.Close()
			c.Write(connectionRequest("", tc.protocols))
			if _, err := readTPKT(c); err != nil {
				t.Fatal(err)
			}
			w := net.Conn(c)
			if tc.protocols == rdp.ProtoSSL {
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
				if err := tc.Handshake(); err != nil {
					t.Fatal(err)
				}
				w = tc
			}
			w.Write(connectInitial(tc.channels...))
			evs := in.Recorder.WaitFor(t, "rdp.mcs_connect", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "rdp.mcs_connect", nil) == 1 })
			e := lastOf(evs, "rdp.mcs_connect")
			if _, bk := e.Data["bluekeep"]; bk != tc.bluekeep {
				t.Fatalf("bluekeep %v in %v", bk, e.Data)
			}
			if e.Str("client_name") != "rdpscan" || e.Int("client_build") != 2600 {
				t.Errorf("client data %v", e.Data)
			}
			if tc.bluekeep {
				if cves, _ := e.Data["cves"].([]string); len(cves) != 1 || cves[0] != "CVE-2019-0708" {
					t.Errorf("cves %v", e.Data["cves"])
				}
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{"hostname: \"a b\"\n", "domain: WAYTOOLONGDOMAINNAME\n", "os_version: ten\n", "os_version: 10.0.999999\n", "nonsense: 1\n"} {
		if _, err := rdp.New(sensor.Env{DataDir: t.TempDir()}, sensortest.DecodeYAML(cfg)); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}

// TestIdentityFromSeed: the host name and certificate subject are drawn
// from the seed, stable for one installation and different for another;
// the certificate is kept in the data directory.
func TestIdentityFromSeed(t *testing.T) {
	dir := t.TempDir()
	mk := func(seed, dir string) rdp.Host {
		s, err := rdp.New(sensor.Env{Seed: []byte(seed), DataDir: dir}, sensortest.DecodeYAML(""))
		if err != nil {
			t.Fatal(err)
		}
		return s.(*rdp.Sensor).HostInfo()
	}
	a, a2, b := mk("one", dir), mk("one", dir), mk("two", t.TempDir())
	if a != a2 || a == b {
		t.Fatalf("hosts %+v %+v %+v", a, a2, b)
	}
	if !regexp.MustCompile(`^(WIN-[A-Z0-9]{11}|DESKTOP-[A-Z0-9]{7}|[A-Z]+[0-9]{2})$`).MatchString(a.Computer) {
		t.Errorf("computer name %q", a.Computer)
	}
	if _, err := os.Stat(dir + "/rdp-certificate.pem"); err != nil {
		t.Fatal(err)
	}
}

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (scripts/deps/telework.apt lists it): %v", tool, err)
	}
	return p
}

// xvfb starts a virtual X display: xfreerdp opens one even to only
// authenticate.
func xvfb(t *testing.T) string {
	t.Helper()
	bin := need(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "640x480x24")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb did not report its display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// TestXfreerdp logs on with FreeRDP: the sensor records user, domain,
// workstation and an NTLMv2 hash that verifies against the password, and
// FreeRDP reports the logon failure Windows would cause.
func TestXfreerdp(t *testing.T) {
	bin := need(t, "xfreerdp")
	display := xvfb(t)
	in := sensortest.Start(t, opts, sensor.DefaultLimits())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "/v:"+in.Addr, "/u:jsmith", "/p:Spring2026#", "/d:CORP", "/cert:ignore", "+auth-only", "/timeout:20000")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+t.TempDir())
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "ERRCONNECT_LOGON_FAILURE") {
		t.Errorf("xfreerdp did not see a logon failure:\n%s", out)
	}
	evs := in.Recorder.WaitFor(t, "login.failed", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "login.failed", nil) == 1 })
	e := lastOf(evs, "login.failed")
	if e.Text("username") != "jsmith" || e.Text("domain") != "CORP" || e.Text("workstation") == "" || e.Str("hash_type") != "netntlmv2" {
		t.Fatalf("login.failed %v", e.Data)
	}
	if err := verifyNetNTLMv2(e.Text("hash"), "Spring2026#"); err != nil {
		t.Fatalf("hash %s: %v", e.Text("hash"), err)
	}
	if cr := lastOf(evs, "rdp.connect_request"); cr.Text("cookie") != "jsmith" {
		t.Errorf("cookie %q", cr.Text("cookie"))
	}
}

// TestNmap: nmap's RDP scripts see a Windows host with the sensor's names.
func TestNmap(t *testing.T) {
	if testing.Short() {
		t.Skip("nmap version detection takes seconds")
	}
	bin := need(t, "nmap")
	in := sensortest.Start(t, opts, sensor.DefaultLimits())
	port := in.Addr[strings.LastIndexByte(in.Addr, ':')+1:]
	out, err := exec.Command(bin, "-n", "-Pn", "-sV", "-p", port, "--script", "rdp-ntlm-info,rdp-enum-encryption", "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	for _, want := range []string{"ms-wbt-server", "NetBIOS_Computer_Name: RDS01", "DNS_Domain_Name: corp.local", "Product_Version: 10.0.17763", "CredSSP (NLA): SUCCESS"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nmap output lacks %q:\n%s", want, out)
		}
	}
	evs := in.Recorder.WaitFor(t, "ntlm negotiate", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "rdp.ntlm_negotiate", nil) >= 1 })
	if cr := lastOf(evs, "rdp.connect_request"); cr == nil || cr.Str("fingerprint") == "" {
		t.Error("no connect request fingerprint")
	}
}
