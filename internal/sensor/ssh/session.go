package ssh

import (
	"context"
	"encoding/binary"
	"io"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
	"golang.org/x/crypto/ssh"
)

// Bounds per connection.
const (
	maxChannels = 16 // session channels over the connection's life
	maxEvents   = 64 // env / forward / subsystem events
)

// HandleConn runs one SSH connection.
func (t *Sensor) HandleConn(ctx context.Context, s *sensor.Session) error {
	sc := newSniffConn(s.Conn)
	cw := &chanWriter{}
	conv := t.b.NewConv(s, cw)
	defer conv.Close(ctx)
	// On shutdown, end the blocked read so the session closes cleanly.
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	conn, chans, reqs, err := ssh.NewServerConn(sc, t.serverConfig(ctx, conv))
	t.emitClient(ctx, s, sc)
	if err != nil {
		return nil // handshake or authentication failed: the events tell
	}
	defer conn.Close()
	h := &handler{t: t, s: s, conv: conv, cw: cw, user: conn.User()}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); h.globalRequests(ctx, reqs) }()
	defer wg.Wait()
	defer conn.Close()
	// Channels wait for their shell or exec request on their own, so one
	// that never starts (its subsystem request refused, say) does not hold
	// up the next; the shell serves one started channel at a time.
	starts := make(chan *chanState)
	quit := make(chan struct{})
	defer close(quit)
	n := 0
	for {
		select {
		case nc, ok := <-chans:
			if !ok {
				return nil
			}
			switch nc.ChannelType() {
			case "session":
				if n++; n > maxChannels {
					nc.Reject(ssh.ResourceShortage, "too many channels")
					continue
				}
				ch, creqs, err := nc.Accept()
				if err != nil {
					continue
				}
				cs := h.open(ctx, ch, creqs)
				wg.Add(1)
				go func() {
					defer wg.Done()
					select {
					case <-cs.started:
						select {
						case starts <- cs:
						case <-quit:
							ch.Close()
						}
					case <-cs.done:
						ch.Close() // the client closed it without starting anything
					case <-quit:
						ch.Close()
					}
				}()
			case "direct-tcpip", "forwarded-tcpip":
				h.forward(ctx, nc.ChannelType(), nc.ExtraData())
				nc.Reject(ssh.Prohibited, "administratively prohibited")
			default:
				nc.Reject(ssh.UnknownChannelType, "unknown channel type")
			}
		case cs := <-starts:
			if h.session(ctx, cs) {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// emitClient emits the client's version and HASSH once the handshake has
// passed (or failed after) the client's KEXINIT.
func (t *Sensor) emitClient(ctx context.Context, s *sensor.Session, sc *sniffConn) {
	version, kex, _ := sc.result()
	if version != "" {
		e := s.Event("ssh.client_version")
		e.SetText("version", version)
		s.Emit(ctx, e)
	}
	if kex != nil {
		e := s.Event("ssh.hassh")
		e.Set("hassh", kex.HASSH())
		e.SetText("hassh_algorithms", kex.HASSHAlgorithms())
		e.Set("kex", kex.KEX).Set("host_key", kex.HostKey).Set("enc_c2s", kex.EncC2S).Set("mac_c2s", kex.MACC2S).
			Set("comp_c2s", kex.CompC2S).Set("lang_c2s", kex.LangC2S)
		s.Emit(ctx, e)
	}
}

type handler struct {
	t      *Sensor
	s      *sensor.Session
	conv   *iot.Conv
	cw     *chanWriter
	user   string
	mu     sync.Mutex
	events int
}

func (h *handler) budget() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events++
	return h.events <= maxEvents
}

func (h *handler) globalRequests(ctx context.Context, reqs <-chan *ssh.Request) {
	for r := range reqs {
		switch r.Type {
		case "tcpip-forward", "cancel-tcpip-forward":
			if h.budget() {
				e := h.s.Event("ssh.forward.request")
				e.Set("type", r.Type)
				if host, rest, ok := sshString(r.Payload); ok && len(rest) >= 4 {
					e.SetText("bind_host", host)
					e.Set("bind_port", int(binary.BigEndian.Uint32(rest)))
				}
				h.s.Emit(ctx, e)
			}
		}
		if r.WantReply {
			r.Reply(false, nil)
		}
	}
}

func (h *handler) forward(ctx context.Context, typ string, payload []byte) {
	if !h.budget() {
		return
	}
	e := h.s.Event("ssh.forward.request")
	e.Set("type", typ)
	host, rest, ok := sshString(payload)
	if ok && len(rest) >= 4 {
		e.SetText("dst_host", host)
		e.Set("dst_port", int(binary.BigEndian.Uint32(rest)))
		if oh, rest2, ok := sshString(rest[4:]); ok && len(rest2) >= 4 {
			e.SetText("orig_host", oh)
			e.Set("orig_port", int(binary.BigEndian.Uint32(rest2)))
		}
	}
	h.s.Emit(ctx, e)
}

// sshString decodes one RFC 4251 string.
func sshString(b []byte) (string, []byte, bool) {
	if len(b) < 4 {
		return "", nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return "", nil, false
	}
	return string(b[4 : 4+n]), b[4+n:], true
}

// chanWriter is the conversation's output: the current session channel.
type chanWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *chanWriter) set(w io.Writer) {
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
}

func (c *chanWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	w := c.w
	c.mu.Unlock()
	if w == nil {
		return len(p), nil
	}
	return w.Write(p)
}
