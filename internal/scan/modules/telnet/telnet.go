// Package telnet is the scanner's Telnet grab module: it reads the banner,
// records the option negotiation the server starts (declining every option)
// and notes whether a login prompt appears. It never types a credential.
package telnet

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
)

// Limits on what one server can make the module read.
const (
	maxBanner = 8 << 10
	readWait  = 3 * time.Second
)

// Result is what the grab saw.
type Result struct {
	Banner      string   `json:"banner"`
	Options     []Option `json:"options,omitempty"`
	LoginPrompt bool     `json:"login_prompt"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	return scan.Facts{Service: "telnet", Banner: r.Banner, LoginPrompt: r.LoginPrompt}
}

var promptRE = regexp.MustCompile(`(?i)(login|username|user name|user|password|passwd)\s*:\s*$`)

// Module is the telnet grabber.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "telnet" }
func (Module) Protocol() string    { return "telnet" }
func (Module) Transport() string   { return "tcp" }
func (Module) DefaultPort() uint16 { return 23 }

// Scan reads until a prompt, a pause, the byte limit or the deadline.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	conn, err := t.Dial(ctx, "tcp")
	if err != nil {
		return scan.StatusFromError(err), nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(readWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	res := &Result{}
	var text, pending []byte
	buf := make([]byte, 2048)
	for len(text) < maxBanner {
		// A short idle timeout ends the read once the server has said its
		// piece; the overall deadline bounds a trickling server.
		idle := time.Now().Add(700 * time.Millisecond)
		if len(text) == 0 {
			idle = deadline
		}
		conn.SetReadDeadline(minTime(idle, deadline))
		n, err := conn.Read(buf)
		if n > 0 {
			data := append(pending, buf[:n]...)
			txt, opts, rest := ParseIAC(data)
			pending = append([]byte(nil), rest...)
			text = append(text, txt...)
			res.Options = append(res.Options, opts...)
			if len(res.Options) > 64 {
				res.Options = res.Options[:64]
			}
			if reply := Refuse(opts); len(reply) > 0 {
				conn.SetWriteDeadline(deadline)
				if _, err := conn.Write(reply); err != nil {
					break
				}
			}
			if promptRE.Match(bytes.TrimRight(text, " \r\n\x00")) || promptRE.Match(text) {
				break
			}
		}
		if err != nil {
			if len(text) == 0 && len(res.Options) == 0 {
				return scan.StatusFromError(err), nil, err
			}
			break
		}
	}
	if len(text) > maxBanner {
		text = text[:maxBanner]
	}
	res.Banner = strings.ToValidUTF8(string(text), "\uFFFD")
	res.LoginPrompt = promptRE.MatchString(strings.TrimRight(res.Banner, " \r\n\x00"))
	return scan.StatusSuccess, res, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
