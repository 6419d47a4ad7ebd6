// Package asciicast records a terminal session in the asciicast v2 format
// (https://docs.asciinema.org/manual/asciicast/v2/), so the portal and
// `asciinema play` can replay what an attacker saw and typed.
package asciicast

import (
	"bytes"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultMaxBytes bounds one recording; a session that produces more is
// cut (Truncated reports it) rather than growing without limit.
const DefaultMaxBytes = 4 << 20

// Recorder collects one session's terminal I/O; safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	start     time.Time
	now       func() time.Time
	width     int
	height    int
	sized     bool
	env       map[string]string
	chunks    [][]byte // the event lines; appended in chunks so growth never copies
	size      int
	max       int
	last      time.Duration
	truncated bool
	// The last long input and its escaped form (opening quote, no closing
	// one), reused when the echo of it is output.
	echoRaw, echoEsc []byte
}

// Option adjusts a Recorder.
type Option func(*Recorder)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// WithMaxBytes bounds the event stream.
func WithMaxBytes(n int) Option { return func(r *Recorder) { r.max = n } }

// New starts a recording at start with a default 80x24 terminal.
func New(start time.Time, opts ...Option) *Recorder {
	r := &Recorder{start: start, now: time.Now, width: 80, height: 24, max: DefaultMaxBytes}
	for _, o := range opts {
		o(r)
	}
	return r
}

// SetEnv records TERM and SHELL in the header's env.
func (r *Recorder) SetEnv(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.env == nil {
		r.env = map[string]string{}
	}
	r.env[key] = value
}

// Resize sets the terminal size: the first call sets the header's size
// (until a client reports its size it is assumed 80x24), later ones are
// "r" events, as asciinema records SIGWINCH.
func (r *Recorder) Resize(width, height int) {
	if width <= 0 || height <= 0 || width > 10000 || height > 10000 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.sized {
		r.width, r.height, r.sized = width, height, true
		return
	}
	r.add('r', []byte(strconv.Itoa(width)+"x"+strconv.Itoa(height)))
}

// Output records what the terminal displayed.
func (r *Recorder) Output(p []byte) { r.event('o', p) }

// Input records what the user typed.
func (r *Recorder) Input(p []byte) { r.event('i', p) }

func (r *Recorder) event(code byte, p []byte) {
	if len(p) == 0 {
		return
	}
	r.mu.Lock()
	r.add(code, p)
	r.mu.Unlock()
}

func (r *Recorder) add(code byte, p []byte) {
	if r.truncated {
		return
	}
	t := r.now().Sub(r.start)
	if t < r.last {
		t = r.last // keep times monotonic whatever the clock does
	}
	r.last = t
	if r.size+len(p)*6+48 > r.max { // the worst case: every byte \u00XX
		r.truncated = true
		return
	}
	// Room for the usual case; a line full of escapes grows its chunk.
	need := len(p) + len(p)/2 + 48
	if len(r.chunks) == 0 || cap(r.chunks[len(r.chunks)-1])-len(r.chunks[len(r.chunks)-1]) < need {
		r.chunks = append(r.chunks, r.newChunk(need))
	}
	last := &r.chunks[len(r.chunks)-1]
	b := *last
	start := len(b)
	b = append(b, '[')
	b = strconv.AppendFloat(b, t.Seconds(), 'f', 6, 64)
	b = append(b, ", \""...)
	b = append(b, code)
	b = append(b, "\", "...)
	switch {
	case code == 'o' && len(r.echoRaw) > 0 && bytes.HasPrefix(p, r.echoRaw):
		// The terminal echoes what was just typed, so the escaped form of
		// that part is already known (it ends in ASCII, so the escaping of
		// the rest does not depend on it).
		b = append(b, r.echoEsc...)
		b = appendTail(b, p[len(r.echoRaw):])
		r.echoRaw = r.echoRaw[:0]
	case code == 'i' && len(p) >= 64 && p[len(p)-1] < utf8.RuneSelf:
		s := len(b)
		b = AppendString(b, p)
		r.echoRaw = append(r.echoRaw[:0], p...)
		r.echoEsc = append(r.echoEsc[:0], b[s:len(b)-1]...)
	default:
		r.echoRaw = r.echoRaw[:0]
		b = AppendString(b, p)
	}
	b = append(b, "]\n"...)
	r.size += len(b) - start
	*last = b
}

// chunkMax is the size chunks grow to. Chunks of that size come from a
// pool shared by all recordings: a busy session fills many of them, and
// reusing them keeps the garbage collector out of the hot path; small
// first chunks keep idle sessions cheap.
const chunkMax = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkMax); return &b }}

func (r *Recorder) newChunk(need int) []byte {
	size := 512
	if n := len(r.chunks); n > 0 {
		size = min(2*cap(r.chunks[n-1]), chunkMax)
	}
	if size == chunkMax && need <= chunkMax {
		return (*chunkPool.Get().(*[]byte))[:0]
	}
	return make([]byte, 0, max(size, need))
}

// Release gives the recording's memory back for reuse by later
// recordings; the Recorder must not be used afterwards.
func (r *Recorder) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.chunks {
		if cap(c) == chunkMax {
			c = c[:0]
			chunkPool.Put(&c)
		}
	}
	r.chunks, r.size, r.truncated = nil, 0, true
}

// Len is the size of the recorded events in bytes (0: nothing recorded).
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// Truncated reports whether events were dropped over the size bound.
func (r *Recorder) Truncated() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.truncated
}

// Duration is the time of the last event.
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// Bytes returns the complete asciicast v2 file: header line, then events.
func (r *Recorder) Bytes() []byte { return r.AppendTo(nil) }

// AppendTo appends the complete asciicast v2 file to b and returns it.
func (r *Recorder) AppendTo(b []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := b
	if cap(h)-len(h) < 160+r.size {
		h = make([]byte, len(b), len(b)+160+r.size)
		copy(h, b)
	}
	h = append(h, `{"version": 2, "width": `...)
	h = strconv.AppendInt(h, int64(r.width), 10)
	h = append(h, `, "height": `...)
	h = strconv.AppendInt(h, int64(r.height), 10)
	h = append(h, `, "timestamp": `...)
	h = strconv.AppendInt(h, r.start.Unix(), 10)
	if len(r.env) > 0 {
		h = append(h, `, "env": {`...)
		first := true
		for _, k := range []string{"SHELL", "TERM"} {
			v, ok := r.env[k]
			if !ok {
				continue
			}
			if !first {
				h = append(h, ", "...)
			}
			first = false
			h = AppendString(h, []byte(k))
			h = append(h, ": "...)
			h = AppendString(h, []byte(v))
		}
		h = append(h, '}')
	}
	h = append(h, "}\n"...)
	for _, c := range r.chunks {
		h = append(h, c...)
	}
	return h
}

const hex = "0123456789abcdef"

// AppendString appends p as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as asciinema itself decodes terminal output; the exact bytes live in
// the session's events.
func AppendString(b, p []byte) []byte {
	return appendTail(append(b, '"'), p)
}

// appendTail appends p escaped and the closing quote.
func appendTail(b, p []byte) []byte {
	for i := 0; i < len(p); {
		// Copy the run of bytes that need no escaping in one go.
		j := i
		for j < len(p) && plain[p[j]] {
			j++
		}
		b = append(b, p[i:j]...)
		if j == len(p) {
			break
		}
		i = j
		c := p[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		} else {
			b = append(b, p[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// plain are the ASCII bytes copied as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
