package fakenet

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func serve(t *testing.T) (tcp, dns string, recs func() []Record) {
	t.Helper()
	tl, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ul, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []Record
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- Serve(ctx, Config{TCP: tl, DNS: dl, UDP: ul, Emit: func(r Record) { mu.Lock(); got = append(got, r); mu.Unlock() }})
	}()
	stopped := false
	stop := func() []Record {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return got
	}
	t.Cleanup(func() { stop() })
	return tl.Addr().String(), dl.LocalAddr().String(), stop
}

// TestDNS resolves through the fake resolver with Go's own client.
func TestDNS(t *testing.T) {
	_, dns, recs := serve(t)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns)
	}}
	addrs, err := r.LookupHost(context.Background(), "cnc.example.test")
	if err != nil {
		t.Fatal(err)
	}
	want := AnswerFor("cnc.example.test").String()
	if len(addrs) != 1 || addrs[0] != want {
		t.Errorf("addrs = %v, want [%s]", addrs, want)
	}
	var a bool
	for _, rec := range recs() {
		a = a || rec.Kind == "dns" && rec.Name == "cnc.example.test" && rec.QType == "A" && rec.Answer == want
	}
	if !a {
		t.Errorf("records = %+v", recs())
	}
}

// TestDNSGolden pins the answer bytes.
func TestDNSGolden(t *testing.T) {
	query, _ := hex.DecodeString("abcd01000001000000000000036e6f7007657861" + "6d706c6500" + "00010001")
	q, err := ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := q.Answer()
	golden := filepath.Join("testdata", "answer-a.hex")
	if *update {
		os.WriteFile(golden, []byte(hex.EncodeToString(resp)+"\n"), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(resp); got != strings.TrimSpace(string(want)) {
		t.Errorf("answer = %s, want %s", got, want)
	}
}

// TestHTTP fetches from the catch-all with a real client and checks the
// request is recorded and answered.
func TestHTTP(t *testing.T) {
	tcp, _, recs := serve(t)
	resp, err := http.Get("http://" + tcp + "/bins/x.sh")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "#!/bin/sh\nexit 0\n" {
		t.Errorf("body = %q", body)
	}
	c, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("\x00\x00\x00\x01raw"))
	c.Close()
	time.Sleep(50 * time.Millisecond) // let the server see EOF
	var h, raw bool
	for _, r := range recs() {
		h = h || r.HTTP != nil && r.HTTP.Method == "GET" && r.HTTP.URI == "/bins/x.sh"
		raw = raw || bytes.Equal(r.First, []byte("\x00\x00\x00\x01raw")) && r.Bytes == 7
	}
	if !h || !raw {
		t.Errorf("records = %+v", recs())
	}
}

func TestParseHTTPWaitsForBody(t *testing.T) {
	req := "POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
	if _, ok := parseHTTP([]byte(req + "dest_")); ok {
		t.Error("complete before the body arrived")
	}
	r, ok := parseHTTP([]byte(req + "dest_host="))
	if !ok || string(r.Body) != "dest_host=" || r.URI != "/GponForm/diag_Form?images/" {
		t.Errorf("got %+v %v", r, ok)
	}
}

func FuzzParseQuery(f *testing.F) {
	q, _ := hex.DecodeString("abcd01000001000000000000036e6f70076578616d706c650000010001")
	f.Add(q)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseQuery(b)
		if err != nil {
			return
		}
		resp, _ := q.Answer()
		if _, err := ParseQuery(resp); err == nil {
			t.Fatal("answer parsed as a query")
		}
	})
}

func FuzzParseHTTP(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, ok := parseHTTP(b); ok {
			respondHTTP(io.Discard, r)
		}
	})
}

func TestTelnetStep(t *testing.T) {
	var out bytes.Buffer
	n := telnetStep(&out, []byte("root\r\n"), 0)
	n = telnetStep(&out, []byte("xc3511\r\nenable\r\n"), n)
	if n != 3 || out.String() != telnetPassword+telnetPrompt+telnetPrompt {
		t.Errorf("lines %d, wrote %q", n, out.String())
	}
}
