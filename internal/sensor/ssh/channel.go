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

// session serves one session channel until it ends.
func (h *handler) session(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) bool {
	defer ch.Close()
	h.pty, h.width = false, 0 // per channel
	h.cw.set(ch)
	defer h.cw.set(nil)
	started := make(chan start, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.requests(ctx, reqs, started)
	}()
	defer func() { ch.Close(); <-done }()
	var st start
	select {
	case st = <-started:
	case <-done:
		return false
	case <-ctx.Done():
		return false
	}
	if !h.conv.ShellStarted() {
		h.conv.StartShell(h.user, h.width)
	}
	w := h.conv.Buffered()
	if st.exec {
		code, _ := h.conv.Run(ctx, st.cmd, h.pty)
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
		if h.pty {
			w.WriteString(h.conv.Prompt())
		}
		line, err := lines.Next(h.pty)
		if err != nil {
			w.Flush()
			exit(ch, 0)
			return false
		}
		code, exited := h.conv.Run(ctx, line, h.pty)
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
// the session through started. pty and size are set before started is
// sent, so the session reads them safely.
func (h *handler) requests(ctx context.Context, reqs <-chan *ssh.Request, started chan<- start) {
	begun := false
	for r := range reqs {
		ok := false
		switch r.Type {
		case "pty-req":
			term, rest, good := sshString(r.Payload)
			if good && len(rest) >= 8 && !begun {
				w, hh := int(binary.BigEndian.Uint32(rest)), int(binary.BigEndian.Uint32(rest[4:]))
				h.pty, h.width, ok = true, w, true
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
			started <- st
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
