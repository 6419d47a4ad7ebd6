package sensor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// pipeListener hands the runner in-memory connections from any source
// address, so per-source limits can be tested with IPv6 prefixes no
// loopback interface has.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2323}
}

type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }
func (c addrConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2323} }

// dial connects from src and returns the client side once the runner has
// accepted or refused it.
func (l *pipeListener) dial(t *testing.T, src string) net.Conn {
	t.Helper()
	client, server := net.Pipe()
	a := netip.MustParseAddr(src)
	l.conns <- addrConn{Conn: server, remote: net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, 40000))}
	t.Cleanup(func() { client.Close() })
	return client
}

// loginSensor greets, enters its login phase, and logs in on the first
// line it reads.
type loginSensor struct{}

func (loginSensor) Honeypot() string { return "test" }
func (loginSensor) HandleConn(ctx context.Context, s *Session) error {
	s.LoginPhase()
	if _, err := s.Conn.Write([]byte("login: ")); err != nil {
		return err
	}
	r := bufio.NewReader(s.Conn)
	if _, err := r.ReadString('\n'); err != nil {
		return err
	}
	s.LoggedIn()
	if _, err := s.Conn.Write([]byte("ok\n")); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, r)
	return err
}

type recorder struct {
	mu  sync.Mutex
	evs []*event.Event
}

func (r *recorder) Emit(_ context.Context, e *event.Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
	return nil
}
func (r *recorder) PutSample(context.Context, []byte) (SampleInfo, error) { return SampleInfo{}, nil }
func (r *recorder) PutRecording(context.Context, string, []byte) error    { return nil }

func (r *recorder) closedReasons() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for _, e := range r.evs {
		if e.Kind == "session.closed" {
			m[e.Str("reason")]++
		}
	}
	return m
}

func startRunner(t *testing.T, l Limits) (*pipeListener, *recorder) {
	t.Helper()
	ln, rec := newPipeListener(), &recorder{}
	r := &Runner{Name: "test", Factory: Factory{Name: "test", Transport: "tcp"}, Sensor: loginSensor{}, Limits: l,
		Env: Env{SensorName: "s", Emitter: rec}, ln: ln}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln, rec
}

// greeted reads the greeting: true if the runner started a session, false
// if it closed the connection at once.
func greeted(t *testing.T, c net.Conn) bool {
	t.Helper()
	buf := make([]byte, 7)
	_, err := io.ReadFull(c, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("read greeting: %v", err)
	}
	return err == nil
}

func TestPerSourceCapGroupsIPv6By64(t *testing.T) {
	tests := []struct {
		prefix int
		want   int
	}{{64, 4}, {128, 12}, {120, 12}, {48, 4}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.prefix), func(t *testing.T) {
			l := DefaultLimits()
			l.MaxSessionsPerIP = 4
			l.IPv6Prefix = tc.prefix
			ln, _ := startRunner(t, l)
			got := 0
			for i := 1; i <= 12; i++ {
				if greeted(t, ln.dial(t, fmt.Sprintf("2001:db8::%x:%x", i, i))) {
					got++
				}
			}
			if got != tc.want {
				t.Fatalf("%d of 12 addresses of one /64 got in with ipv6_prefix %d, cap 4: want %d", got, tc.prefix, tc.want)
			}
		})
	}
}

// TestFloodLeavesRoomForLogins fills the cap with idle connections from a
// few sources: newcomers still get the reserved share, and once those are
// taken too, the idlest connection still at its login prompt is evicted
// for a newcomer, who logs in.
func TestFloodLeavesRoomForLogins(t *testing.T) {
	l := DefaultLimits()
	l.MaxSessions, l.MaxSessionsPerIP = 16, 16
	l.LoginTimeout = 2 * time.Second // evictable after 0.5 s idle
	ln, rec := startRunner(t, l)
	flood := 0
	for i := 0; i < 64; i++ {
		if greeted(t, ln.dial(t, "192.0.2.1")) {
			flood++
		}
	}
	if flood != 14 {
		t.Fatalf("one source got %d of 16 slots, want 14 (2 kept for new sources)", flood)
	}
	for _, src := range []string{"192.0.2.2", "192.0.2.3"} {
		if !greeted(t, ln.dial(t, src)) {
			t.Fatalf("new source %s refused with reserved slots free", src)
		}
	}
	// Now full, and nobody has been idle a quarter of the login timeout.
	if greeted(t, ln.dial(t, "192.0.2.4")) {
		t.Fatal("a session past the cap with no idle login to evict")
	}
	time.Sleep(l.LoginTimeout/4 + 100*time.Millisecond)
	c := ln.dial(t, "198.51.100.9")
	if !greeted(t, c) {
		t.Fatal("legitimate login refused during the flood")
	}
	if _, err := c.Write([]byte("root\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ok\n" {
		t.Fatalf("login answer %q, %v", buf, err)
	}
	for deadline := time.Now().Add(10 * time.Second); rec.closedReasons()[ReasonEvicted] != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("closed reasons %v, want one evicted", rec.closedReasons())
		}
	}
}

func TestLoginTimeout(t *testing.T) {
	l := DefaultLimits()
	l.LoginTimeout = 300 * time.Millisecond
	ln, rec := startRunner(t, l)
	idle := ln.dial(t, "192.0.2.1")
	if !greeted(t, idle) {
		t.Fatal("refused")
	}
	if _, err := io.Copy(io.Discard, idle); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatal(err)
	}
	if got := rec.closedReasons(); got[ReasonLogin] != 1 {
		t.Fatalf("closed reasons %v, want login_timeout", got)
	}
	// Logged in, the session outlives the login timeout.
	c := ln.dial(t, "192.0.2.2")
	greeted(t, c)
	c.Write([]byte("root\n"))
	buf := make([]byte, 3)
	io.ReadFull(c, buf)
	time.Sleep(2 * l.LoginTimeout)
	if _, err := c.Write([]byte("still here\n")); err != nil {
		t.Fatalf("logged-in session cut: %v", err)
	}
}
