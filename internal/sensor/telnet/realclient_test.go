package telnet_test

import (
	"context"
	"encoding/xml"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/deps/iot.apt lists it): %v", tool, err)
		}
	}
}

// TestDebianTelnetClient logs in with netkit telnet driven by expect and
// runs commands, as a person would.
func TestDebianTelnetClient(t *testing.T) {
	need(t, "expect", "telnet")
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	host, port, _ := net.SplitHostPort(in.Addr)
	script := `
set timeout 20
set stty_init "rows 40 columns 100"
spawn telnet ` + host + ` ` + port + `
expect "login: " { send "root\r" } timeout { exit 2 }
expect "Password: " { send "xc3511\r" } timeout { exit 3 }
expect "# " { send "uname -a\r" } timeout { exit 4 }
expect -re "Linux \[^\r\n\]+ mips" { send "echo done-\$((6*7))\r" } timeout { exit 5 }
expect "done-42" { send "exit\r" } timeout { exit 6 }
expect eof
`
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "expect", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("expect: %v\n%s", err, out)
	}
	evs := in.Recorder.WaitFor(t, "session end", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 1 })
	if sensortest.Count(evs, "command.input", func(e *event.Event) bool { return e.Text("input") == "uname -a" }) != 1 {
		t.Fatalf("no command.input for uname -a:\n%s", out)
	}
	if sensortest.Count(evs, "session.params", func(e *event.Event) bool { return e.Int("width") == 100 && e.Int("height") == 40 }) == 0 {
		t.Errorf("telnet client's NAWS not recorded")
	}
}

type nmapRun struct {
	Ports []struct {
		State struct {
			State string `xml:"state,attr"`
		} `xml:"state"`
		Service struct {
			Name    string `xml:"name,attr"`
			Product string `xml:"product,attr"`
			Version string `xml:"version,attr"`
			Extra   string `xml:"extrainfo,attr"`
		} `xml:"service"`
	} `xml:"host>ports>port"`
}

// NmapService runs nmap -sV against 127.0.0.1:port and returns its XML
// verdict and raw output.
func NmapService(t *testing.T, port string) (name, product, raw string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nmap", "-sT", "-sV", "--version-intensity", "1", "-Pn", "-n", "-p", port, "127.0.0.1", "-oX", "-").Output()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	var r nmapRun
	if err := xml.Unmarshal(out, &r); err != nil || len(r.Ports) != 1 {
		t.Fatalf("nmap output: %v\n%s", err, out)
	}
	s := r.Ports[0].Service
	return s.Name, s.Product + " " + s.Version + " " + s.Extra, string(out)
}

func TestNmapIdentifiesTelnet(t *testing.T) {
	need(t, "nmap")
	t.Parallel() // nmap waits out each probe (~45 s); let the rest run meanwhile
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	_, port, _ := net.SplitHostPort(in.Addr)
	name, product, raw := NmapService(t, port)
	if name != "telnet" {
		t.Fatalf("nmap says %q (%s), want telnet\n%s", name, product, raw)
	}
	if strings.Contains(strings.ToLower(raw), "honeypot") {
		t.Fatalf("nmap calls it a honeypot:\n%s", raw)
	}
	t.Logf("nmap: %s %s", name, product)
}
