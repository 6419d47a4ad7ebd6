package ssh

import (
	"context"
	"encoding/binary"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
)

type start struct {
	exec bool
	cmd  string
}

// chanState is one session channel: its terminal (set by requests before
// the start is sent, read by session after) and how it started.
type chanState struct {
	ch      ssh.Channel
	pty     bool
	width   int
	st      start
	started chan struct{} // closed once shell or exec was accepted
	done    chan struct{} // closed when the channel's requests end
}

// open answers the channel's requests in the background until it ends.
func (h *handler) open(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) *chanState {
	cs := &chanState{ch: ch, started: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(cs.done)
		h.requests(ctx, cs, reqs)
	}()
	return cs
}

// session serves one started session channel until it ends.
func (h *handler) session(ctx context.Context, cs *chanState) bool {
	ch := cs.ch
	defer func() { ch.Close(); <-cs.done }()
	h.cw.set(ch)
	defer h.cw.set(nil)
	st := cs.st
	if !h.conv.ShellStarted() {
		h.conv.StartShell(h.user, cs.width)
	}
	w := h.conv.Buffered()
	if st.exec {
		code, _ := h.conv.Run(ctx, st.cmd, cs.pty)
		w.Flush()
		exit(ch, code)
		return false
	}
	lines := iot.LineReader{W: w}
	buf := make([]byte, 2048)
	lines.Src = func() ([]byte, error) {
		n, err := ch.Read(buf)
		h.conv.Input(buf[:n])
		return buf[:n], err
	}
	for {
		if cs.pty {
			w.WriteString(h.conv.Prompt())
		}
		line, err := lines.Next(cs.pty)
		if err != nil {
			w.Flush()
			exit(ch, 0)
			return false
		}
		code, exited := h.conv.Run(ctx, line, cs.pty)
		if exited {
			w.Flush()
			exit(ch, code)
			return false
		}
	}
}

func exit(ch ssh.Channel, code int) {
	ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(code)))
	ch.CloseWrite()
}

// requests answers the channel's requests; the first shell or exec starts
// the session by closing cs.started. pty and size are set before, so the
// session reads them safely.
func (h *handler) requests(ctx context.Context, cs *chanState, reqs <-chan *ssh.Request) {
	begun := false
	for r := range reqs {
		ok := false
		switch r.Type {
		case "pty-req":
			term, rest, good := sshString(r.Payload)
			if good && len(rest) >= 8 && !begun {
				w, hh := int(binary.BigEndian.Uint32(rest)), int(binary.BigEndian.Uint32(rest[4:]))
				cs.pty, cs.width, ok = true, w, true
				h.conv.Resize(w, hh)
				h.conv.Params(ctx, map[string]any{"term": term, "width": w, "height": hh})
			}
		case "window-change":
			if len(r.Payload) >= 8 {
				h.conv.Resize(int(binary.BigEndian.Uint32(r.Payload)), int(binary.BigEndian.Uint32(r.Payload[4:])))
			}
		case "env":
			name, rest, good := sshString(r.Payload)
			value, _, good2 := sshString(rest)
			if good && good2 {
				if h.budget() {
					e := h.s.Event("ssh.env")
					e.SetText("name", name)
					e.SetText("value", value)
					h.s.Emit(ctx, e)
				}
				// Both Dropbear and OpenSSH's default accept only the locale.
				ok = name == "LANG" || strings.HasPrefix(name, "LC_")
			}
		case "shell", "exec":
			if begun {
				break
			}
			st := start{exec: r.Type == "exec"}
			if st.exec {
				cmd, _, good := sshString(r.Payload)
				if !good {
					break
				}
				st.cmd = cmd
			}
			begun, ok = true, true
			if r.WantReply {
				r.Reply(true, nil)
			}
			cs.st = st
			close(cs.started)
			continue
		case "subsystem":
			name, _, _ := sshString(r.Payload)
			if h.budget() {
				e := h.s.Event("ssh.subsystem")
				e.SetText("name", name)
				h.s.Emit(ctx, e)
			}
		}
		if r.WantReply {
			r.Reply(ok, nil)
		}
	}
}
