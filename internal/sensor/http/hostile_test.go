package http_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// readAnswer reads one response, or reports that the server closed.
func readAnswer(t *testing.T, c net.Conn) (*http.Response, bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, true
}

// closedByServer waits for the server to close c (reading and discarding).
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(sensortest.Wait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

// TestHostileInput: huge heads, slow heads, smuggling attempts, invalid
// UTF-8 and 10 MB bodies each get a clear 4xx or a closed connection, and
// the sensor keeps serving.
func TestHostileInput(t *testing.T) {
	in := start(t, "profile: router-dlink\ntiming: false\nheader_timeout: 1s\nkeep_alive: 1s\n")
	send := func(t *testing.T, data string) net.Conn {
		c := in.Dial(t, "")
		t.Cleanup(func() { c.Close() })
		go c.Write([]byte(data)) // the server may stop reading early
		return c
	}
	t.Run("HugeHeader", func(t *testing.T) {
		c := send(t, "GET / HTTP/1.1\r\nHost: x\r\nX-Long: "+strings.Repeat("A", 100<<10)+"\r\n\r\n")
		if r, ok := readAnswer(t, c); !ok || r.StatusCode != 431 {
			t.Fatalf("answer %v", r)
		}
		closedByServer(t, c)
	})
	t.Run("ManyHeaders", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("GET / HTTP/1.1\r\nHost: x\r\n")
		for i := range 5000 {
			fmt.Fprintf(&b, "X-%d: y\r\n", i)
		}
		c := send(t, b.String()+"\r\n")
		if r, ok := readAnswer(t, c); !ok || r.StatusCode != 431 {
			t.Fatalf("answer %v", r)
		}
	})
	t.Run("Slowloris", func(t *testing.T) {
		c := in.Dial(t, "")
		defer c.Close()
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		done := make(chan struct{})
		go func() { // one header byte every 100 ms, for ever
			defer close(done)
			for range 300 {
				if _, err := c.Write([]byte("X")); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		closedByServer(t, c)
		c.Close()
		<-done
	})
	t.Run("IdleAfterConnect", func(t *testing.T) {
		c := in.Dial(t, "")
		defer c.Close()
		closedByServer(t, c)
	})
	for name, req := range map[string]string{
		"CLandTE":      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
		"TwoLengths":   "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcdGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
		"TEObfuscated": "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
		"TEIn10":       "POST /x HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
		"BadChunk":     "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /smuggled HTTP/1.1\r\n\r\n",
		"SpaceInName":  "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length : 40\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
		"FoldedTE":     "POST /x HTTP/1.1\r\nHost: x\r\nX: y\r\n Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
	} {
		t.Run("Smuggling"+name, func(t *testing.T) {
			c := send(t, req)
			if r, ok := readAnswer(t, c); ok && r.StatusCode < 400 {
				t.Fatalf("ambiguous request answered %d", r.StatusCode)
			}
			closedByServer(t, c)
		})
	}
	t.Run("InvalidUTF8", func(t *testing.T) {
		c := send(t, "GET /\xff\xfe?q=\xc3\x28 HTTP/1.1\r\nHost: x\r\nUser-Agent: \xf0\x28\x8c\x28\r\n\r\n")
		if r, ok := readAnswer(t, c); !ok || r.StatusCode != 404 {
			t.Fatalf("answer %v", r)
		}
		evs := in.Recorder.WaitFor(t, "utf8 request", sensortest.Wait, func(evs []*event.Event) bool {
			return sensortest.Count(evs, "http.request", func(e *event.Event) bool { return e.Text("uri") == "/\xff\xfe?q=\xc3\x28" }) == 1
		})
		for _, e := range evs {
			if e.Kind == "http.request" && e.Text("uri") == "/\xff\xfe?q=\xc3\x28" {
				if e.Text("user_agent") != "\xf0\x28\x8c\x28" || e.Str("uri_b64") != base64.StdEncoding.EncodeToString([]byte("/\xff\xfe?q=\xc3\x28")) {
					t.Errorf("bytes not kept exactly: %v", e.Data)
				}
			}
		}
	})
	t.Run("TenMegabyteBody", func(t *testing.T) {
		c := in.Dial(t, "")
		defer c.Close()
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 10<<20)
		go c.Write(bytes.Repeat([]byte("A"), 10<<20))
		if r, ok := readAnswer(t, c); !ok || r.StatusCode != 413 {
			t.Fatalf("answer %v", r)
		}
		closedByServer(t, c)
	})
	t.Run("TenMegabyteChunked", func(t *testing.T) {
		c := in.Dial(t, "")
		defer c.Close()
		fmt.Fprint(c, "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		go func() {
			chunk := append([]byte(fmt.Sprintf("%x\r\n", 1<<20)), bytes.Repeat([]byte("B"), 1<<20)...)
			chunk = append(chunk, "\r\n"...)
			for range 10 {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
		if r, ok := readAnswer(t, c); !ok || r.StatusCode != 413 {
			t.Fatalf("answer %v", r)
		}
		closedByServer(t, c)
	})
	// The smuggled requests were never served, and the sensor still is.
	if n := sensortest.Count(in.Recorder.Events(), "http.request", func(e *event.Event) bool { return e.Str("path") == "/smuggled" }); n != 0 {
		t.Errorf("%d smuggled requests served", n)
		for _, e := range in.Recorder.Events() {
			if e.Kind == "http.request" {
				t.Logf("%s %d %q %v", e.Session, e.SrcPort, bounded(e.Text("head"), 120), e.Data["refused"])
			}
		}
	}
	c := in.Dial(t, "")
	defer c.Close()
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r, ok := readAnswer(t, c); !ok || r.StatusCode != 200 {
		t.Fatalf("after the hostile clients: %v", r)
	}
}

func bounded(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
