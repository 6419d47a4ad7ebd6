package alert

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

const secret = "0123456789abcdef-secret"

// wait bounds how long a test waits for a delivery: a hang guard.
const wait = 10 * time.Second

func testConfig(subs ...Subscription) Config {
	c := DefaultConfig()
	c.Subscriptions = subs
	c.Backoff = 5 * time.Millisecond
	c.MaxAttempts = 3
	c.Timeout = 2 * time.Second
	return c
}

func run(t *testing.T, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
	})
}

func webhookSub(url string) Subscription {
	return Subscription{ID: "sub-1", Name: "ops", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		Kinds: []string{KindAmpVictim}, Webhook: &Webhook{URL: url, Secret: secret}, Verified: true}
}

type hook struct {
	mu     sync.Mutex
	bodies [][]byte
	got    chan struct{}
	status func(n int) int
	calls  atomic.Int32
}

func newHook(t *testing.T, status func(n int) int) (*hook, *httptest.Server) {
	return newHookAt(t, status, time.Now)
}

// newHookAt verifies signatures at the time now says (the dispatcher's
// injected clock).
func newHookAt(t *testing.T, status func(n int) int, now func() time.Time) (*hook, *httptest.Server) {
	h := &hook{got: make(chan struct{}, 100), status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.calls.Add(1))
		body, _ := io.ReadAll(r.Body)
		if err := Verify(secret, r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), body, now(), 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
		}
		code := h.status(n)
		if code == http.StatusFound {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(code)
		if code == 200 {
			h.mu.Lock()
			h.bodies = append(h.bodies, body)
			h.mu.Unlock()
			h.got <- struct{}{}
		}
	}))
	t.Cleanup(srv.Close)
	return h, srv
}

func TestWebhookDelivery(t *testing.T) {
	h, srv := newHook(t, func(int) int { return 200 })
	d, err := NewDispatcher(testConfig(webhookSub(srv.URL)), nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	d.Handle(context.Background(), ampEvent(), 64500)
	select {
	case <-h.got:
	case <-time.After(wait):
		t.Fatal("no webhook delivery")
	}
	var p struct {
		Kind   string            `json:"kind"`
		Report map[string]string `json:"report"`
		CSV    string            `json:"csv"`
	}
	h.mu.Lock()
	body := h.bodies[0]
	h.mu.Unlock()
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindAmpVictim || p.Report["src_ip"] != "192.0.2.7" || p.Report["src_asn"] != "64500" || p.Report["count"] != "1200" ||
		p.Report["request"] != "mode7 impl=3 req=42" || !strings.HasPrefix(p.CSV, formatsCommon+","+formatsAmp+"\n") {
		t.Fatalf("payload %s", body)
	}
	// The report object keeps FORMATS.md's column order.
	if i, j := strings.Index(string(body), `"timestamp"`), strings.Index(string(body), `"max_pps"`); i < 0 || j < i {
		t.Fatalf("report keys out of order: %s", body)
	}
}

func TestVerifyRefusesReplayAndTampering(t *testing.T) {
	body := []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	sig := Sign(secret, now.Unix(), body)
	tests := []struct {
		name string
		sig  string
		ts   int64
		body []byte
		ok   bool
	}{
		{"valid", sig, now.Unix(), body, true},
		{"replayed later", sig, now.Unix() - 3600, body, false},
		{"tampered body", sig, now.Unix(), []byte(`{"a":2}`), false},
		{"other secret", Sign("another-secret-xxxxx", now.Unix(), body), now.Unix(), body, false},
	}
	for _, tc := range tests {
		err := Verify(secret, tc.sig, strconv.FormatInt(tc.ts, 10), tc.body, now, 5*time.Minute)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	h, srv := newHook(t, func(n int) int {
		if n < 3 {
			return 503
		}
		return 200
	})
	d, _ := NewDispatcher(testConfig(webhookSub(srv.URL)), nil)
	run(t, d)
	d.Handle(context.Background(), ampEvent(), 0)
	select {
	case <-h.got:
	case <-time.After(wait):
		t.Fatal("not delivered after retries")
	}
	if n := h.calls.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	if len(d.DeadLetters()) != 0 {
		t.Fatal("dead letter after success")
	}
}

func TestDeadLetterAndNoRedirect(t *testing.T) {
	for _, code := range []int{500, http.StatusFound} {
		h, srv := newHook(t, func(int) int { return code })
		d, _ := NewDispatcher(testConfig(webhookSub(srv.URL)), nil)
		run(t, d)
		d.Handle(context.Background(), ampEvent(), 0)
		deadline := time.Now().Add(wait)
		for len(d.DeadLetters()) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("status %d: no dead letter after %d calls", code, h.calls.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
		dl := d.DeadLetters()[0]
		if dl.Attempts != 3 || h.calls.Load() != 3 || !strings.Contains(dl.LastError, "status") {
			t.Fatalf("status %d: dead letter %+v after %d calls", code, dl, h.calls.Load())
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	for a := 1; a <= 5; a++ {
		base := time.Second << (a - 1)
		for i := 0; i < 50; i++ {
			d := backoff(time.Second, a)
			if d < base*3/4 || d > base*5/4 {
				t.Fatalf("attempt %d: backoff %v outside %v±25%%", a, d, base)
			}
		}
	}
}

func TestScoping(t *testing.T) {
	sub := Subscription{ID: "x", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, ASNs: []uint32{64501},
		Kinds: []string{KindAmpVictim, KindInfectedHost}}
	scan := &event.Event{Honeypot: "scan", Kind: "scan.finding", DstIP: netip.MustParseAddr("192.0.2.1")}
	tests := []struct {
		name string
		e    *event.Event
		asn  uint32
		want bool
	}{
		{"victim in prefix", ampEvent(), 0, true},
		{"victim by asn", func() *event.Event { e := ampEvent(); e.SrcIP = netip.MustParseAddr("203.0.113.1"); return e }(), 64501, true},
		{"victim elsewhere", func() *event.Event { e := ampEvent(); e.SrcIP = netip.MustParseAddr("203.0.113.1"); return e }(), 64999, false},
		{"attacker in prefix", func() *event.Event { e := bruteEvent(); e.SrcIP = netip.MustParseAddr("192.0.2.9"); return e }(), 0, true},
		{"kind not subscribed", scan, 0, false},
		{"event raising no alert", &event.Event{Kind: "session.connect", SrcIP: netip.MustParseAddr("192.0.2.9")}, 0, false},
	}
	for _, tc := range tests {
		kind, addr, _ := Classify(tc.e)
		got := kind != "" && sub.Matches(kind, addr, tc.asn)
		if got != tc.want {
			t.Errorf("%s: match %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestUnverifiedGetsNothingAndHandleNeverBlocks(t *testing.T) {
	_, srv := newHook(t, func(int) int { return 200 })
	s := webhookSub(srv.URL)
	s.Verified = false
	cfg := testConfig(s)
	cfg.QueueSize = 1
	d, _ := NewDispatcher(cfg, nil)
	d.Handle(context.Background(), ampEvent(), 0)
	if len(d.queue) != 0 {
		t.Fatal("unverified subscription got a delivery")
	}
	d.SetSubscriptions([]Subscription{webhookSub(srv.URL)})
	for i := 0; i < 10; i++ { // not running: the queue fills, Handle must not block
		d.Handle(context.Background(), ampEvent(), 0)
	}
	if d.Dropped() != 9 {
		t.Fatalf("dropped %d", d.Dropped())
	}
}

func TestConfigValidation(t *testing.T) {
	good := webhookSub("https://hooks.example.net/x")
	tests := []struct {
		name string
		mod  func(*Subscription)
	}{
		{"no scope", func(s *Subscription) { s.Prefixes = nil }},
		{"bad kind", func(s *Subscription) { s.Kinds = []string{"everything"} }},
		{"short secret", func(s *Subscription) { s.Webhook.Secret = "x" }},
		{"ftp url", func(s *Subscription) { s.Webhook.URL = "ftp://x/y" }},
		{"no channel", func(s *Subscription) { s.Webhook = nil }},
		{"header injection", func(s *Subscription) { s.Webhook = nil; s.Mail = &Mail{To: []string{"a@b\r\nBcc: c@d"}} }},
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		s := webhookSub("https://hooks.example.net/x")
		tc.mod(&s)
		if _, err := NewDispatcher(testConfig(s), nil); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// smtpServer is a minimal SMTP receiver on 127.0.0.1 for the mail test.
type smtpServer struct {
	ln   net.Listener
	msgs chan string
	rcpt chan string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, msgs: make(chan string, 10), rcpt: make(chan string, 10)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	r := bufio.NewReader(c)
	say := func(l string) { io.WriteString(c, l+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			s.rcpt <- strings.TrimSpace(line[8:])
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			s.msgs <- b.String()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func TestMailDelivery(t *testing.T) {
	srv := newSMTPServer(t)
	host, port, _ := net.SplitHostPort(srv.ln.Addr().String())
	cfg := testConfig(Subscription{ID: "m", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		Mail: &Mail{To: []string{"noc@example.net"}}, Verified: true})
	p, _ := strconv.Atoi(port)
	cfg.SMTP = SMTP{Host: host, Port: p, From: "kansoku@example.org"}
	d, err := NewDispatcher(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	d.Handle(context.Background(), ampEvent(), 64500)
	var raw string
	select {
	case raw = <-srv.msgs:
	case <-time.After(wait):
		t.Fatal("no mail")
	}
	if r := <-srv.rcpt; r != "<noc@example.net>" {
		t.Fatalf("rcpt %q", r)
	}
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Header.Get("Subject"); s != "[kansoku] ntp reflection DDoS against 192.0.2.7" {
		t.Fatalf("subject %q", s)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var csvPart string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FileName() == "report.csv" {
			b, _ := io.ReadAll(p)
			dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
			if err != nil {
				t.Fatal(err)
			}
			csvPart = string(dec)
		}
	}
	if !strings.HasPrefix(csvPart, formatsCommon+","+formatsAmp+"\n2026-11-01 12:00:00,udp,192.0.2.7,5353,64500,") {
		t.Fatalf("csv attachment %q", csvPart)
	}
}
