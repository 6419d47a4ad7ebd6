package iot

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/asciicast"
	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/shell"
)

// Bounds on what one conversation keeps in memory for its events.
const (
	maxTranscript = 4 << 20 // bytes of dropper lines kept in one command.dropper event
	dropperRun    = 3       // consecutive dropper lines from which they are folded into one event
	maxInputs     = 10000   // command.input events per session; further lines are only counted
)

// Conv is one connection's conversation: login attempts, then the shell.
// It is not safe for concurrent use, except Write and Input, which the SSH
// sensor calls from its channel goroutines.
type Conv struct {
	b   *Base
	s   *sensor.Session
	rec *asciicast.Recorder
	w   io.Writer // the client
	bw  *bufio.Writer
	sh  *shell.Shell

	captured map[string]bool // sha256 captured in this session
	drop     []string        // pending dropper lines
	dropLen  int
	dropN    int
	dropCut  bool
	inputs   int // command.input events emitted
	dropped  int // lines over maxInputs
}

// NewConv starts the conversation of s; w is where output for the client
// goes (the connection or SSH channel).
func (b *Base) NewConv(s *sensor.Session, w io.Writer) *Conv {
	c := &Conv{b: b, s: s, w: w, captured: map[string]bool{}}
	s.LoginPhase()
	if b.Cfg.Record {
		c.rec = asciicast.New(s.Start)
	}
	c.bw = bufio.NewWriterSize(writerFunc(c.write), 2048)
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *Conv) write(p []byte) (int, error) {
	if c.rec != nil {
		c.rec.Output(p)
	}
	return c.w.Write(p)
}

// Write sends p to the client now (recorded).
func (c *Conv) Write(p []byte) (int, error) {
	if err := c.bw.Flush(); err != nil {
		return 0, err
	}
	return c.write(p)
}

// Buffered is a writer that collects output until Flush.
func (c *Conv) Buffered() *bufio.Writer { return c.bw }

// Input records what the client typed (already stripped of protocol bytes).
func (c *Conv) Input(p []byte) {
	if c.rec != nil {
		c.rec.Input(p)
	}
}

// Resize records a terminal size change.
func (c *Conv) Resize(w, h int) {
	if c.rec != nil {
		c.rec.Resize(w, h)
	}
}

// Recorder is the session's recording, or nil.
func (c *Conv) Recorder() *asciicast.Recorder { return c.rec }

// Login decides one attempt, emits login.success or login.failed with the
// exact bytes, and returns whether it succeeded.
func (c *Conv) Login(ctx context.Context, user, password, method string) bool {
	ok := c.b.Policy.Check(c.s.Remote.Addr(), user, password)
	kind := "login.failed"
	if ok {
		kind = "login.success"
		c.s.LoggedIn()
	}
	e := c.s.Event(kind)
	e.SetText("username", user)
	e.SetText("password", password)
	e.Set("method", method)
	c.s.Emit(ctx, e)
	return ok
}

// PublicKey emits login.failed for an SSH public key offered (and
// refused): its type, base64 wire form and SHA256 and MD5 fingerprints.
func (c *Conv) PublicKey(ctx context.Context, user, keyType, key, fingerprint, fingerprintMD5 string) {
	e := c.s.Event("login.failed")
	e.SetText("username", user)
	e.Set("method", "publickey").Set("key_type", keyType).Set("key", key).Set("fingerprint", fingerprint).Set("fingerprint_md5", fingerprintMD5)
	c.s.Emit(ctx, e)
}

// Params emits session.params with what the client told about its terminal.
func (c *Conv) Params(ctx context.Context, fields map[string]any) {
	e := c.s.Event("session.params")
	for k, v := range fields {
		if s, ok := v.(string); ok {
			e.SetText(k, s)
		} else {
			e.Set(k, v)
		}
	}
	c.s.Emit(ctx, e)
}

// StartShell starts the shell for the logged-in user.
func (c *Conv) StartShell(user string, columns int) {
	c.sh = shell.New(shell.Config{Device: c.b.Device, Hooks: hooks{c}, Username: user, Columns: columns,
		Rand: rand.New(&splitmix{uint64(time.Now().UnixNano())}), Memory: c.b.Memory})
}

// splitmix is a 8-byte random source for the shell (PIDs, timings): the
// standard math/rand source weighs 4.9 KB, which 10,000 idle sessions feel.
type splitmix struct{ s uint64 }

func (r *splitmix) Int63() int64 { return int64(r.Uint64() >> 1) }

func (r *splitmix) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *splitmix) Seed(seed int64) { r.s = uint64(seed) }

// Prompt is the shell's current prompt.
func (c *Conv) Prompt() string { return c.sh.Prompt() }

// Line runs one input line in the shell, writing its output (with the
// terminal's \r\n line ends) to the buffered writer; exited reports that
// the shell ended the session.
func (c *Conv) Line(ctx context.Context, line string) (exited bool) {
	_, exited = c.Run(ctx, line, true)
	return exited
}

// Run runs one command line, writing its output to the buffered writer,
// with \r\n line ends when the client has a terminal (crlf).
func (c *Conv) Run(ctx context.Context, line string, crlf bool) (exit int, exited bool) {
	c.note(ctx, line)
	var out io.Writer = c.bw
	if crlf {
		out = CRLF(c.bw)
	}
	return c.sh.Exec(ctx, line, out)
}

// ShellStarted reports whether StartShell was called.
func (c *Conv) ShellStarted() bool { return c.sh != nil }

// note emits command.input for line, folding runs of dropper lines.
func (c *Conv) note(ctx context.Context, line string) {
	if IsDropperLine(line) {
		c.drop = append(c.drop, line)
		c.dropN++
		if c.dropLen+len(line)+1 > maxTranscript {
			c.dropCut = true
			c.drop = c.drop[:len(c.drop)-1]
		} else {
			c.dropLen += len(line) + 1
		}
		return
	}
	c.flushDropper(ctx)
	if strings.TrimSpace(line) == "" {
		return
	}
	c.input(ctx, line)
}

// input emits command.input for line within the session's event budget.
func (c *Conv) input(ctx context.Context, line string) {
	if c.inputs >= maxInputs {
		c.dropped++
		return
	}
	c.inputs++
	e := c.s.Event("command.input")
	e.SetText("input", line)
	c.s.Emit(ctx, e)
}

func (c *Conv) flushDropper(ctx context.Context) {
	if c.dropN == 0 {
		return
	}
	if c.dropN < dropperRun {
		for _, l := range c.drop {
			c.input(ctx, l)
		}
	} else {
		var b strings.Builder
		b.Grow(c.dropLen)
		for _, l := range c.drop {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		e := c.s.Event("command.dropper")
		e.Set("lines", c.dropN).Set("truncated", c.dropCut)
		e.SetText("transcript", b.String())
		c.s.Emit(ctx, e)
	}
	c.drop, c.dropN, c.dropLen, c.dropCut = nil, 0, 0, false
}

// IsDropperLine reports whether line writes escaped bytes to a file the way
// echo droppers do: echo/printf with \x or octal escapes and a redirection.
func IsDropperLine(line string) bool {
	if !strings.Contains(line, ">") || !(strings.Contains(line, "echo ") || strings.Contains(line, "printf ")) {
		return false
	}
	for i := 0; i+1 < len(line); i++ {
		if line[i] == '\\' && (line[i+1] == 'x' || line[i+1] >= '0' && line[i+1] <= '7') {
			return true
		}
	}
	return false
}

// Close ends the conversation: pending events, samples still in the
// filesystem, and the recording.
func (c *Conv) Close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = c.bw.Flush()
	c.flushDropper(ctx)
	if c.dropped > 0 {
		e := c.s.Event("command.suppressed")
		e.Set("lines", c.dropped).Set("limit", maxInputs)
		c.s.Emit(ctx, e)
	}
	if c.sh != nil {
		c.sh.Close(ctx)
	}
	if c.rec == nil || c.rec.Len() == 0 {
		return // nothing was shown (an SSH connection that never got a channel)
	}
	defer c.rec.Release()
	buf := castPool.Get().(*[]byte)
	cast := c.rec.AppendTo((*buf)[:0])
	err := c.s.Env().Emitter.PutRecording(ctx, c.s.ID, cast)
	size := len(cast)
	*buf = cast[:0]
	castPool.Put(buf)
	if err != nil {
		c.s.Logger.Warn("store recording", "err", err)
		return
	}
	e := c.s.Event("session.recording")
	e.Set("size", size).Set("duration", c.rec.Duration().Seconds()).Set("truncated", c.rec.Truncated()).Set("format", "asciicast-v2")
	c.s.Emit(ctx, e)
}

// castPool holds the buffers recordings are assembled in for
// PutRecording, which does not keep them; a recording is at most
// asciicast.DefaultMaxBytes, so a buffer never grows past that.
var castPool = sync.Pool{New: func() any { return new([]byte) }}

// hooks connects the shell to the fetcher and the sample store.
type hooks struct{ c *Conv }

// errDisabled is what the shell sees when no fetcher is configured: the
// error a device without a route would give.
var errDisabled = &capture.Error{Kind: capture.KindConnection, Err: syscall.ECONNREFUSED}

// Download fetches url for tool exactly as the shell's wget does:
// download.ok or download.failed, and sample.captured once per content in
// the session. The HTTP honeypot hands it the URLs that injected commands
// name, so their samples follow the same path to the analysis queue.
func (c *Conv) Download(ctx context.Context, tool, url string) ([]byte, error) {
	return hooks{c}.Fetch(ctx, tool, url)
}

func (h hooks) Fetch(ctx context.Context, tool, url string) ([]byte, error) {
	c := h.c
	if c.b.Fetcher == nil {
		e := c.s.Event("download.failed")
		e.SetText("url", url)
		e.Set("tool", tool).Set("error", "fetcher-disabled")
		c.s.Emit(ctx, e)
		return nil, errDisabled
	}
	res, err := c.b.Fetcher.Fetch(ctx, url)
	if err != nil {
		e := c.s.Event("download.failed")
		e.SetText("url", url)
		e.Set("tool", tool).Set("error", string(capture.KindOf(err)))
		var fe *capture.Error
		if errors.As(err, &fe) {
			e.SetText("message", fe.Err.Error())
		}
		if res != nil {
			e.Set("status", res.Status)
		}
		c.s.Emit(ctx, e)
		return nil, err
	}
	sum := sha256.Sum256(res.Body)
	sha := hex.EncodeToString(sum[:])
	if !c.captured[sha] {
		if _, err := c.s.CaptureSample(ctx, res.Body, map[string]any{"url": url, "trigger": "download", "tool": tool, "profile": c.profileName()}); err != nil {
			c.s.Logger.Warn("store sample", "err", err)
		} else {
			c.captured[sha] = true
		}
	}
	e := c.s.Event("download.ok")
	e.SetText("url", url)
	e.SetText("final_url", res.FinalURL)
	e.Set("tool", tool).Set("status", res.Status).Set("sha256", sha).Set("size", len(res.Body)).Set("cached", res.Cached)
	if res.ContentType != "" {
		e.SetText("content_type", res.ContentType)
	}
	c.s.Emit(ctx, e)
	return res.Body, nil
}

func (h hooks) Sample(ctx context.Context, s shell.Sample) {
	c := h.c
	sum := sha256.Sum256(s.Data)
	sha := hex.EncodeToString(sum[:])
	if c.captured[sha] {
		return
	}
	fields := map[string]any{"path": s.Path, "trigger": s.Trigger, "profile": c.profileName()}
	if s.URL != "" {
		fields["url"] = s.URL
	}
	if len(s.Commands) > 0 {
		fields["commands"] = strings.Join(s.Commands, "\n")
	}
	if _, err := c.s.CaptureSample(ctx, s.Data, fields); err != nil {
		c.s.Logger.Warn("store sample", "err", err)
		return
	}
	c.captured[sha] = true
}

// crlf converts the shell's \n line ends to the terminal's \r\n, as a tty
// with ONLCR does.
type crlf struct{ w io.Writer }

func (t crlf) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			m, err := t.w.Write(p)
			return n + m, err
		}
		if _, err := t.w.Write(p[:i]); err != nil {
			return n, err
		}
		if _, err := t.w.Write([]byte("\r\n")); err != nil {
			return n, err
		}
		n += i + 1
		p = p[i+1:]
	}
	return n, nil
}

// CRLF wraps w so that \n becomes \r\n.
func CRLF(w io.Writer) io.Writer { return crlf{w} }

// Flush passes a flush on to the wrapped writer: the shell flushes before
// each pause that paces a long output, so the client sees it trickle.
func (t crlf) Flush() error {
	if f, ok := t.w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// profileName is the device profile this sensor pretends to be; the sandbox
// runs the session's samples on the same device.
func (c *Conv) profileName() string {
	if c.b.Device == nil || c.b.Device.Profile == nil {
		return ""
	}
	return c.b.Device.Profile.Name
}
