package sensor

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrByteLimit is returned by a session's Read once the client has sent more
// than the sensor's max_bytes.
var ErrByteLimit = errors.New("sensor: session byte limit reached")

// Close reasons recorded in session.closed.
const (
	ReasonClient   = "client"  // the client closed the connection
	ReasonServer   = "server"  // the sensor ended the session
	ReasonIdle     = "idle"    // idle_timeout passed without traffic
	ReasonTimeout  = "timeout" // session_timeout passed
	ReasonBytes    = "max_bytes"
	ReasonShutdown = "shutdown" // the process is stopping
	ReasonPanic    = "panic"
	ReasonError    = "error"
	ReasonLogin    = "login_timeout" // login_timeout passed before a login succeeded
	ReasonEvicted  = "evicted"       // cut, idle before login, to make room near the session cap
)

// limitConn enforces idle and total timeouts and the byte cap on every
// Read and Write, so a sensor cannot forget them.
type limitConn struct {
	net.Conn
	idle     time.Duration
	deadline time.Time
	maxBytes int64
	// start and loginTimeout make the login deadline while loginPhase is
	// set (Session.LoginPhase, cleared by Session.LoggedIn).
	start        time.Time
	loginTimeout time.Duration
	loginPhase   atomic.Bool
	lastRead     atomic.Int64 // unix nanoseconds of the last client bytes
	evicted      bool         // guarded by the runner's mutex

	in, out             atomic.Int64
	mu                  sync.Mutex
	reason              string
	userRead, userWrite time.Time
	closing             atomic.Bool
}

func (c *limitConn) setReason(r string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = r
	}
	c.mu.Unlock()
}

func (c *limitConn) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

func (c *limitConn) inLogin() bool { return c.loginPhase.Load() && c.loginTimeout > 0 }

func (c *limitConn) loginDeadline() time.Time {
	if !c.inLogin() {
		return time.Time{}
	}
	// A thirtieth later (2 s of 60 s), so that a sensor's own login alarm
	// ("Login timed out after 60 seconds") speaks first.
	return c.start.Add(c.loginTimeout + c.loginTimeout/30)
}

func (c *limitConn) nextDeadline() time.Time {
	d := time.Now().Add(c.idle)
	if !c.deadline.IsZero() && c.deadline.Before(d) {
		d = c.deadline
	}
	if l := c.loginDeadline(); !l.IsZero() && l.Before(d) {
		d = l
	}
	return d
}

func (c *limitConn) classify(err error) error {
	if err == nil {
		return nil
	}
	if c.closing.Load() {
		c.setReason(ReasonShutdown)
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		if l := c.loginDeadline(); !l.IsZero() && !time.Now().Before(l) {
			c.setReason(ReasonLogin)
		} else if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
			c.setReason(ReasonTimeout)
		} else {
			c.setReason(ReasonIdle)
		}
		return err
	}
	if errors.Is(err, net.ErrClosed) {
		return err
	}
	c.setReason(ReasonClient)
	return err
}

func (c *limitConn) Read(p []byte) (int, error) {
	if c.maxBytes > 0 {
		left := c.maxBytes - c.in.Load()
		if left <= 0 {
			c.setReason(ReasonBytes)
			return 0, ErrByteLimit
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	if !c.closing.Load() {
		c.mu.Lock()
		u := c.userRead
		c.mu.Unlock()
		d := c.pick(u)
		_ = c.Conn.SetReadDeadline(d)
		if !u.IsZero() && d.Equal(u) {
			// The sensor's own deadline fired: its business, not a limit.
			n, err := c.Conn.Read(p)
			c.in.Add(int64(n))
			if err != nil && c.closing.Load() {
				c.setReason(ReasonShutdown)
			}
			return n, err
		}
	}
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return n, c.classify(err)
}

func (c *limitConn) Write(p []byte) (int, error) {
	if !c.closing.Load() {
		c.mu.Lock()
		u := c.userWrite
		c.mu.Unlock()
		_ = c.Conn.SetWriteDeadline(c.pick(u))
	}
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, c.classify(err)
}

// SetReadDeadline lets a sensor (or a library such as crypto/tls) shorten
// the next reads' deadline; it can never extend past the session's limits.
func (c *limitConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.userRead = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.pick(t))
}

// SetWriteDeadline is SetReadDeadline for writes.
func (c *limitConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.userWrite = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.pick(t))
}

// SetDeadline sets both.
func (c *limitConn) SetDeadline(t time.Time) error {
	_ = c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// pick returns the earlier of the session's next deadline and a sensor's.
func (c *limitConn) pick(user time.Time) time.Time {
	d := c.nextDeadline()
	if !user.IsZero() && user.Before(d) {
		return user
	}
	return d
}

// evict ends the session to make room for another.
func (c *limitConn) evict() {
	c.setReason(ReasonEvicted)
	c.closing.Store(true)
	_ = c.Conn.SetDeadline(time.Now())
}

// abort unblocks any pending I/O; used at shutdown.
func (c *limitConn) abort() {
	c.closing.Store(true)
	_ = c.Conn.SetDeadline(time.Now())
}
