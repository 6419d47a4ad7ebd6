package sensor

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Session is one accepted connection as a sensor sees it. Conn enforces the
// sensor's limits; events made with Event carry the connection's fields.
type Session struct {
	ID     string
	Conn   net.Conn
	Remote netip.AddrPort
	Local  netip.AddrPort
	Start  time.Time
	Logger *slog.Logger

	env      *Env
	honeypot string
	lc       *limitConn
}

// Event returns a new event of kind for this session, with every connection
// field filled in.
func (s *Session) Event(kind string) *event.Event {
	e := event.New(s.honeypot, kind)
	e.Sensor = s.env.SensorName
	e.Session = s.ID
	e.SrcIP, e.SrcPort = s.Remote.Addr(), s.Remote.Port()
	e.DstIP, e.DstPort = s.Local.Addr(), s.Local.Port()
	e.Transport = "tcp"
	return e
}

// Emit sends e; failures are logged, not returned, because a sensor can do
// nothing about them and must keep talking to the attacker.
func (s *Session) Emit(ctx context.Context, e *event.Event) {
	if err := s.env.Emitter.Emit(ctx, e); err != nil {
		s.Logger.Warn("emit failed", "kind", e.Kind, "err", err)
	}
}

// LoginPhase marks the session as waiting for a login: until LoggedIn, it
// ends at the runner's login_timeout after it began (reason
// login_timeout), and near the session cap it may be evicted when idle.
// Sensors with a login prompt or authentication call it first.
func (s *Session) LoginPhase() { s.lc.loginPhase.Store(true) }

// LoggedIn ends the login phase: the session now has the idle and total
// limits only.
func (s *Session) LoggedIn() { s.lc.loginPhase.Store(false) }

// Env is the environment of the sensor that owns the session.
func (s *Session) Env() *Env { return s.env }

// BytesIn is what the client has sent so far.
func (s *Session) BytesIn() int64 { return s.lc.in.Load() }

// BytesOut is what the sensor has sent so far.
func (s *Session) BytesOut() int64 { return s.lc.out.Load() }

// CaptureSample stores data as a sample and emits a sample.captured event
// for this session with its hashes and the given fields (url, path, …).
func (s *Session) CaptureSample(ctx context.Context, data []byte, fields map[string]any) (SampleInfo, error) {
	info, err := s.env.Emitter.PutSample(ctx, data)
	if err != nil {
		return info, err
	}
	e := s.Event("sample.captured")
	SampleFields(e, info)
	for k, v := range fields {
		if str, ok := v.(string); ok {
			e.SetText(k, str)
		} else {
			e.Set(k, v)
		}
	}
	s.Emit(ctx, e)
	return info, nil
}

// SampleFields writes a sample's identity into e.Data under the names the
// store and docs/events.md use.
func SampleFields(e *event.Event, info SampleInfo) {
	e.Set("sha256", info.SHA256).Set("sha1", info.SHA1).Set("md5", info.MD5).Set("size", info.Size)
}

// NewSession wraps conn as a session with the given limits, for fuzz tests
// and for drivers that hand a sensor a connection the runner did not accept
// (the runner's caps and session events do not apply to it).
func NewSession(conn net.Conn, env *Env, honeypot string, l Limits) *Session {
	now := time.Now()
	lc := &limitConn{Conn: conn, idle: l.IdleTimeout, deadline: now.Add(l.SessionTimeout), maxBytes: l.MaxBytes, start: now, loginTimeout: l.LoginTimeout}
	s := &Session{ID: event.NewID(), Conn: lc, Remote: addrPort(conn.RemoteAddr()), Local: addrPort(conn.LocalAddr()),
		Start: time.Now(), env: env, honeypot: honeypot, lc: lc}
	s.Logger = env.Logger
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}
