package telnet_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet"
	"github.com/kansoku/kansoku/internal/sensortest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "telnet", Config: routerConfig, Exchange: func(t testing.TB, c net.Conn) {
		cl := newClient(t, c)
		login(t, cl, "root", "xc3511")
		if out := cl.run("echo kansoku", "# "); !strings.Contains(out, "kansoku") {
			t.Fatalf("echo output %q", out)
		}
	}})
}

// TestGreeting pins the first bytes each profile's telnetd sends: option
// negotiation, banner and login prompt.
func TestGreeting(t *testing.T) {
	for _, p := range profile.Defaults() {
		t.Run(p.Name, func(t *testing.T) {
			in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: "profile: " + p.Name + "\n"}, sensor.DefaultLimits())
			cl := newClient(t, in.Dial(t, ""))
			got := cl.expect("ogin: ")
			if !bytes.HasPrefix([]byte(got), p.TelnetOptions()) {
				t.Fatalf("greeting % x does not start with the profile's options % x", got, p.TelnetOptions())
			}
			golden := filepath.Join("testdata", "greeting-"+p.Name+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("greeting %q, want %q", got, want)
			}
			if strings.Contains(strings.ToLower(got), "honeypot") || strings.Contains(got, "kansoku") {
				t.Fatalf("greeting gives the honeypot away: %q", got)
			}
		})
	}
}

func TestLoginEvents(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	cl.expect("login: ")
	// NAWS and a byte-exact, invalid-UTF-8 user name.
	cl.send("\xff\xfa\x1f\x00\x84\x00\x2b\xff\xf0")
	cl.send("ro\xff\xffot\r\n") // IAC IAC is a data byte 0xff
	cl.expect("Password: ")
	cl.send("pw\x01\r\x00")
	cl.expect("Login incorrect")
	cl.expect("login: ")
	cl.send("root\r\n")
	cl.expect("Password: ")
	cl.send("vizxv\r\n")
	cl.expect("# ")
	cl.send("exit\r\n")
	evs := in.Recorder.WaitFor(t, "session end", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "session.closed", nil) == 1 && sensortest.Count(evs, "session.recording", nil) == 1
	})
	var failed, ok, params *event.Event
	for _, e := range evs {
		switch e.Kind {
		case "login.failed":
			failed = e
		case "login.success":
			ok = e
		case "session.params":
			params = e
		}
	}
	if failed == nil || failed.Text("username") != "ro\xffot" || failed.Text("password") != "pw\x01" {
		t.Fatalf("login.failed = %q", failed.Data)
	}
	if ok == nil || ok.Text("username") != "root" || ok.Text("password") != "vizxv" {
		t.Fatalf("login.success = %+v", ok)
	}
	if params == nil || params.Int("width") != 132 || params.Int("height") != 43 {
		t.Fatalf("session.params = %+v", params)
	}
	// The password was not echoed; the user name was.
	all := cl.all.String()
	if strings.Contains(all, "vizxv") || !strings.Contains(all, "root\r\n") {
		t.Fatalf("echo wrong in %q", all)
	}
	cast := in.Recorder.Recording(ok.Session)
	if !bytes.HasPrefix(cast, []byte(`{"version": 2, "width": 132, "height": 43,`)) || !bytes.Contains(cast, []byte(`"i", "root\r\n"`)) {
		t.Fatalf("recording:\n%s", cast)
	}
}

func TestThreeFailuresClose(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: "profile: router-mipsel\nauth:\n  mode: none\n  fail_delay: 0s\n"}, sensor.DefaultLimits())
	c := in.Dial(t, "")
	cl := newClient(t, c)
	for i := 0; i < 3; i++ {
		cl.expect("login: ")
		cl.send(fmt.Sprintf("admin%d\r\n", i))
		cl.expect("Password: ")
		cl.send("admin\r\n")
	}
	in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 1 })
	if n := len(in.Recorder.Kind("login.failed")); n != 3 {
		t.Fatalf("%d login.failed, want 3", n)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{"profile: toaster\n", "auth:\n  mode: maybe\n", "nonsense: 1\n", "profiles_dir: /nonexistent\n", "record: often\n"} {
		if _, err := telnet.New(sensor.Env{Seed: []byte("x"), Services: map[string]any{}}, sensortest.DecodeYAML(cfg)); err == nil {
			t.Errorf("config %q accepted", cfg)
		}
	}
}

func TestProfileFromSeed(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		s, err := telnet.New(sensor.Env{Seed: []byte(fmt.Sprintf("install-%d", i)), Services: map[string]any{}}, sensortest.DecodeYAML(""))
		if err != nil {
			t.Fatal(err)
		}
		seen[s.(*telnet.Sensor).Base().Device.Profile.Name] = true
	}
	if len(seen) < 3 {
		t.Fatalf("40 installations chose only %v", seen)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestInputEventBudget floods a session with command lines: past the
// per-session budget they still run but only their count is reported.
func TestInputEventBudget(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	c := in.Dial(t, "")
	cl := newClient(t, c)
	login(t, cl, "root", "xc3511")
	go io.Copy(io.Discard, c)
	c.Write([]byte(strings.Repeat("true\r\n", 10050) + "exit\r\n"))
	evs := in.Recorder.WaitFor(t, "close", 4*sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 1 })
	if n := sensortest.Count(evs, "command.input", nil); n != 10000 {
		t.Fatalf("%d command.input events, want the budget of 10000", n)
	}
	if sensortest.Count(evs, "command.suppressed", func(e *event.Event) bool { return e.Int("lines") == 51 }) != 1 {
		t.Fatal("no command.suppressed for the 51 lines over the budget")
	}
}

func TestLoginTimeout(t *testing.T) {
	defer telnet.SetLoginTimeout(300 * time.Millisecond)()
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	cl.expect("login: ")
	cl.expect("Login timed out after 0 seconds\r\n")
	in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 1 })
}

// TestHeredoc: bots and people write files with here-documents; over
// Telnet the body arrives line by line and must feed the command, with
// the continuation prompt, never run.
func TestHeredoc(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "root", "xc3511")
	cl.run("cat > /tmp/x.sh << EOF", "> ")
	cl.run("echo pwned", "> ")
	cl.run("rm -rf /bin", "> ")
	if out := cl.run("EOF", "# "); strings.Contains(out, "pwned") {
		t.Fatalf("the body ran: %q", out)
	}
	if out := cl.run("cat /tmp/x.sh", "# "); out != "echo pwned\r\nrm -rf /bin\r\n" {
		t.Fatalf("file holds %q", out)
	}
	if out := cl.run("ls /bin/busybox", "# "); !strings.Contains(out, "/bin/busybox") {
		t.Fatalf("the body's rm ran: %q", out)
	}
}
