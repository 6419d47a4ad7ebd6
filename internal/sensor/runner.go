package sensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/source"
)

// Limits are the protections every stream sensor gets from the runner.
type Limits struct {
	MaxSessions int `yaml:"max_sessions"`
	// MaxSessionsPerIP counts per source: an IPv4 address, or an IPv6
	// prefix of IPv6Prefix bits.
	MaxSessionsPerIP int           `yaml:"max_sessions_per_ip"`
	IdleTimeout      time.Duration `yaml:"idle_timeout"`
	SessionTimeout   time.Duration `yaml:"session_timeout"`
	MaxBytes         int64         `yaml:"max_bytes"`
	// LoginTimeout ends a session still in its login phase (see
	// Session.LoginPhase) this long after it began, as BusyBox login does.
	LoginTimeout time.Duration `yaml:"login_timeout"`
	// IPv6Prefix is the prefix length IPv6 sources are grouped by.
	IPv6Prefix int `yaml:"ipv6_prefix"`
}

// DefaultLimits are generous enough for bots that drop binaries by echo
// lines and small enough that one source cannot exhaust a sensor.
func DefaultLimits() Limits {
	return Limits{MaxSessions: 4096, MaxSessionsPerIP: 32, IdleTimeout: 3 * time.Minute, SessionTimeout: 15 * time.Minute, MaxBytes: 8 << 20,
		LoginTimeout: 60 * time.Second, IPv6Prefix: source.DefaultIPv6Prefix}
}

// Validate reports the first bad limit.
func (l Limits) Validate() error {
	switch {
	case l.MaxSessions < 1:
		return errors.New("max_sessions must be at least 1")
	case l.MaxSessionsPerIP < 1:
		return errors.New("max_sessions_per_ip must be at least 1")
	case l.IdleTimeout <= 0:
		return errors.New("idle_timeout must be positive")
	case l.SessionTimeout <= 0:
		return errors.New("session_timeout must be positive")
	case l.MaxBytes < 1:
		return errors.New("max_bytes must be at least 1")
	case l.LoginTimeout <= 0:
		return errors.New("login_timeout must be positive")
	case l.IPv6Prefix < 1 || l.IPv6Prefix > 128:
		return fmt.Errorf("ipv6_prefix %d out of range 1..128", l.IPv6Prefix)
	}
	return nil
}

// ShutdownGrace is how long sessions may finish after shutdown begins before
// their connections are cut.
var ShutdownGrace = 2 * time.Second

// Runner binds and serves one sensor instance.
type Runner struct {
	Name    string
	Factory Factory
	Sensor  Sensor
	Limits  Limits
	Env     Env

	ln net.Listener
	pc net.PacketConn

	mu       sync.Mutex
	perIP    map[netip.Prefix]int // open sessions per source
	open     int
	evicting int // sessions evicted whose handlers have not returned
	sessions map[*limitConn]struct{}
	wg       sync.WaitGroup
}

// ErrAddrInUse wraps a bind failure because the port is taken.
var ErrAddrInUse = errors.New("address already in use")

// Listen binds the runner's socket so that `serve` fails before starting
// anything when a port is taken.
func (r *Runner) Listen(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	var err error
	if r.Factory.Transport == "udp" {
		r.pc, err = lc.ListenPacket(ctx, "udp", addr)
	} else {
		r.ln, err = lc.Listen(ctx, "tcp", addr)
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("sensor %s: listen %s/%s: %w (another process or sensor uses this port)", r.Name, r.Factory.Transport, addr, ErrAddrInUse)
		}
		return fmt.Errorf("sensor %s: listen %s/%s: %w", r.Name, r.Factory.Transport, addr, err)
	}
	return nil
}

// Addr is the bound address (after Listen).
func (r *Runner) Addr() net.Addr {
	if r.pc != nil {
		return r.pc.LocalAddr()
	}
	if r.ln != nil {
		return r.ln.Addr()
	}
	return nil
}

// Serve runs until ctx is done, then stops accepting, lets sessions finish
// for ShutdownGrace, cuts the rest, and returns once every session has
// ended and emitted session.closed.
func (r *Runner) Serve(ctx context.Context) error {
	if r.Env.Logger == nil {
		r.Env.Logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if c, ok := r.Sensor.(Closer); ok {
			_ = c.Close()
		}
	}()
	if r.pc != nil {
		return r.servePacket(ctx)
	}
	ss, ok := r.Sensor.(StreamSensor)
	if !ok {
		return fmt.Errorf("sensor %s: tcp sensor does not implement HandleConn", r.Name)
	}
	return r.serveStream(ctx, ss)
}

func (r *Runner) serveStream(ctx context.Context, ss StreamSensor) error {
	r.perIP = map[netip.Prefix]int{}
	r.sessions = map[*limitConn]struct{}{}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = r.ln.Close() })
	defer stop()

	var err error
	for {
		conn, aerr := r.ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				var ne net.Error
				if errors.As(aerr, &ne) && ne.Timeout() {
					continue
				}
				if !errors.Is(aerr, net.ErrClosed) {
					err = fmt.Errorf("sensor %s: accept: %w", r.Name, aerr)
				}
			}
			break
		}
		r.start(sctx, ss, conn)
	}
	_ = r.ln.Close()
	// Graceful: handlers see a cancelled context first, then their
	// connections are cut if they have not finished.
	cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownGrace):
		r.mu.Lock()
		for c := range r.sessions {
			c.abort()
		}
		r.mu.Unlock()
		<-done
	}
	return err
}

func (r *Runner) start(ctx context.Context, ss StreamSensor, conn net.Conn) {
	remote := addrPort(conn.RemoteAddr())
	local := addrPort(conn.LocalAddr())
	src := source.Key(remote.Addr(), r.Limits.IPv6Prefix)
	r.mu.Lock()
	if !r.admit(src) {
		r.mu.Unlock()
		mRejected.WithLabelValues(r.Factory.Name).Inc()
		_ = conn.Close()
		return
	}
	r.open++
	r.perIP[src]++
	now := time.Now()
	lc := &limitConn{Conn: conn, idle: r.Limits.IdleTimeout, deadline: now.Add(r.Limits.SessionTimeout), maxBytes: r.Limits.MaxBytes,
		loginTimeout: r.Limits.LoginTimeout, start: now}
	lc.lastRead.Store(now.UnixNano())
	r.sessions[lc] = struct{}{}
	r.wg.Add(1)
	r.mu.Unlock()

	s := &Session{ID: event.NewID(), Conn: lc, Remote: remote, Local: local, Start: now, env: &r.Env, honeypot: r.Sensor.Honeypot(), lc: lc}
	s.Logger = r.Env.Logger.With("session", s.ID, "src", remote.String())
	mOpen.WithLabelValues(r.Factory.Name).Inc()
	mSessions.WithLabelValues(r.Factory.Name).Inc()
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			r.open--
			if lc.evicted {
				r.evicting--
			}
			if r.perIP[src]--; r.perIP[src] <= 0 {
				delete(r.perIP, src)
			}
			delete(r.sessions, lc)
			r.mu.Unlock()
			mOpen.WithLabelValues(r.Factory.Name).Dec()
		}()
		r.handle(ctx, ss, s)
	}()
}

// admit decides whether a connection from src may start a session; callers
// hold r.mu. Past the per-source cap it may not. The last eighth of the
// slots is kept for sources holding none, so sources already in cannot
// lock newcomers out; when those reserved slots are in use, the session in
// its login phase that has been silent longest (at least a quarter of the
// login timeout) is evicted to make room.
func (r *Runner) admit(src netip.Prefix) bool {
	held := r.perIP[src]
	if held >= r.Limits.MaxSessionsPerIP {
		return false
	}
	reserve := r.Limits.MaxSessions / 8
	free := r.Limits.MaxSessions - (r.open - r.evicting)
	if free <= reserve {
		if v := r.idlestPreLogin(time.Now()); v != nil {
			v.evicted = true
			r.evicting++
			v.evict()
			mEvicted.WithLabelValues(r.Factory.Name).Inc()
			free++
		}
	}
	return free > 0 && (held == 0 || free > reserve)
}

// idlestPreLogin returns the session in its login phase whose client has
// been silent longest, if that is at least a quarter of the login timeout;
// callers hold r.mu.
func (r *Runner) idlestPreLogin(now time.Time) *limitConn {
	var best *limitConn
	var bestAt int64
	minIdle := r.Limits.LoginTimeout / 4
	for c := range r.sessions {
		if c.evicted || !c.inLogin() {
			continue
		}
		at := c.lastRead.Load()
		if now.Sub(time.Unix(0, at)) < minIdle {
			continue
		}
		if best == nil || at < bestAt {
			best, bestAt = c, at
		}
	}
	return best
}

func (r *Runner) handle(ctx context.Context, ss StreamSensor, s *Session) {
	s.Emit(ctx, s.Event("session.connect"))
	err := r.safely(ctx, s.ID, s, func() error { return ss.HandleConn(ctx, s) })
	_ = s.lc.Conn.Close()
	switch {
	case errors.Is(err, errPanicked):
		s.lc.setReason(ReasonPanic)
	case errors.Is(err, ErrByteLimit):
		s.lc.setReason(ReasonBytes)
	case err != nil && s.lc.Reason() == "":
		s.lc.setReason(ReasonError)
		s.Logger.Debug("session ended with error", "err", err)
	}
	s.lc.setReason(ReasonServer)
	e := s.Event("session.closed")
	e.Set("duration", time.Since(s.Start).Seconds()).Set("bytes_in", s.BytesIn()).Set("bytes_out", s.BytesOut()).Set("reason", s.lc.Reason())
	s.Emit(ctx, e)
}

var errPanicked = errors.New("sensor: handler panicked")

// safely runs fn, turning a panic into a counted sensor.panic event so one
// hostile session can never take the process down.
func (r *Runner) safely(ctx context.Context, session string, s *Session, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			mPanics.WithLabelValues(r.Factory.Name).Inc()
			stack := debug.Stack()
			if len(stack) > 4096 {
				stack = stack[:4096]
			}
			var e *event.Event
			if s != nil {
				e = s.Event("sensor.panic")
			} else {
				e = event.New(r.Sensor.Honeypot(), "sensor.panic")
				e.Sensor = r.Env.SensorName
			}
			e.SetText("panic", fmt.Sprint(p))
			e.SetText("stack", string(stack))
			e.Set("instance", r.Name)
			if err := r.Env.Emitter.Emit(ctx, e); err != nil {
				r.Env.Logger.Warn("emit panic event", "err", err)
			}
			r.Env.Logger.Error("sensor panic recovered", "sensor", r.Name, "session", session, "panic", fmt.Sprint(p))
			err = errPanicked
		}
	}()
	return fn()
}

func (r *Runner) servePacket(ctx context.Context) error {
	ps, ok := r.Sensor.(PacketSensor)
	if !ok {
		return fmt.Errorf("sensor %s: udp sensor does not implement ServePacket", r.Name)
	}
	defer r.pc.Close()
	stop := context.AfterFunc(ctx, func() { _ = r.pc.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		err := r.safely(ctx, "", nil, func() error { return ps.ServePacket(ctx, r.pc, r.Env) })
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, errPanicked) {
			if err != nil {
				return fmt.Errorf("sensor %s: %w", r.Name, err)
			}
			return nil
		}
		// After a panic the socket is still good: serve again, after a pause
		// so a packet that panics every time cannot spin the CPU.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		ap := v.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.UDPAddr:
		ap := v.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
