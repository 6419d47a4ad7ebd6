package http_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// fakeELF is a distinct small "binary" for each name.
func fakeELF(name string) []byte {
	h := sha256.Sum256([]byte(name))
	b := append([]byte("\x7fELF\x01\x02\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x08"), h[:]...)
	return append(b, bytes.Repeat(h[:8], 64)...)
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// binServer is the malware host of a test: every path is a binary,
// except the scripts added with script.
type binServer struct {
	*httptest.Server
	mu      sync.Mutex
	scripts map[string]string
	hits    map[string]int
}

func newBinServer(t testing.TB) *binServer {
	b := &binServer{scripts: map[string]string{}, hits: map[string]int{}}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits[r.URL.Path]++
		s, ok := b.scripts[r.URL.Path]
		b.mu.Unlock()
		if ok {
			w.Write([]byte(s))
			return
		}
		w.Write(fakeELF(r.URL.Path))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *binServer) host() string { return strings.TrimPrefix(b.URL, "http://") }

func (b *binServer) script(path, body string) {
	b.mu.Lock()
	b.scripts[path] = body
	b.mu.Unlock()
}

// tftpServer answers read requests on 127.0.0.1 with fakeELF(file).
func tftpServer(t testing.TB) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 4 || binary.BigEndian.Uint16(buf) != 1 {
				continue
			}
			name, _, _ := bytes.Cut(buf[2:n], []byte{0})
			go serveTFTP(from, fakeELF("/"+strings.TrimPrefix(string(name), "/")))
		}
	}()
	return strings.TrimPrefix(pc.LocalAddr().String(), "127.0.0.1:")
}

func serveTFTP(to net.Addr, data []byte) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return
	}
	defer c.Close()
	ack := make([]byte, 516)
	for block := 1; ; block++ {
		chunk := data[min((block-1)*512, len(data)):min(block*512, len(data))]
		pkt := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 3), uint16(block))
		pkt = append(pkt, chunk...)
		for try := 0; try < 5; try++ {
			c.WriteTo(pkt, to)
			c.SetReadDeadline(time.Now().Add(time.Second))
			if n, _, err := c.ReadFrom(ack); err == nil && n >= 4 && binary.BigEndian.Uint16(ack[2:]) == uint16(block) {
				break
			}
		}
		if len(chunk) < 512 {
			return
		}
	}
}

// withFetcher gives the sensor a fetcher that may reach 127.0.0.0/8.
func withFetcher(env *sensor.Env) {
	c := capture.DefaultConfig()
	c.AllowNetworks = []string{"127.0.0.0/8"}
	c.PerHostInterval = 0
	c.Timeout = 10 * time.Second
	env.Services["fetcher"] = capture.New(c, slog.New(slog.DiscardHandler))
}

// start runs an http sensor with cfg behind the real runner.
func start(t testing.TB, cfg string) *sensortest.Instance {
	t.Helper()
	return sensortest.Start(t, sensortest.Options{Factory: "http", Config: cfg, Env: withFetcher}, sensor.DefaultLimits())
}

// rawRequest is a request file: the request line, headers and body.
type rawRequest struct {
	method, target string
	headers        []string
	body           []byte
}

func parseRaw(t testing.TB, data []byte) rawRequest {
	t.Helper()
	head, body, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	first := strings.Fields(lines[0])
	if len(first) < 3 {
		t.Fatalf("bad request line %q", lines[0])
	}
	return rawRequest{method: first[0], target: strings.Join(first[1:len(first)-1], " "), headers: lines[1:], body: body}
}

// curl sends r to addr with curl and returns curl's verbose output and
// the response; headers of the file replace curl's own.
func curl(t testing.TB, addr string, r rawRequest, extra ...string) (string, []byte) {
	t.Helper()
	args := []string{"-sS", "-v", "--max-time", "30", "--path-as-is", "-X", r.method, "--request-target", r.target, "-H", "Expect:", "-o", "-"}
	for _, h := range r.headers {
		if k, _, _ := strings.Cut(h, ":"); strings.EqualFold(k, "Content-Length") {
			continue
		}
		args = append(args, "-H", h)
	}
	if len(r.body) > 0 {
		f := filepath.Join(t.TempDir(), "body")
		if err := os.WriteFile(f, r.body, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--data-binary", "@"+f)
	}
	args = append(args, extra...)
	args = append(args, "http://"+addr+"/")
	cmd := exec.Command("curl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %q: %v\n%s", args, err, stderr.String())
	}
	return stderr.String(), out
}

func needCurl(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (scripts/deps/http.apt installs it)")
	}
}

// has reports whether e's list field holds v.
func has(e *event.Event, field, v string) bool {
	switch l := e.Data[field].(type) {
	case []string:
		for _, x := range l {
			if x == v {
				return true
			}
		}
	case []any:
		for _, x := range l {
			if x == v {
				return true
			}
		}
	}
	return false
}

// curlURL runs curl with args and returns its stderr (-v) and stdout.
func curlURL(t testing.TB, args ...string) (string, []byte) {
	t.Helper()
	cmd := exec.Command("curl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %q: %v\n%s", args, err, stderr.String())
	}
	return stderr.String(), out
}
