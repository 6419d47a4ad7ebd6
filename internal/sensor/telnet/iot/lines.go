package iot

import (
	"bufio"
	"io"
)

// MaxCanon is the line length of a Linux tty in canonical mode: further
// characters of a line are dropped, as on the real device.
const MaxCanon = 4095

// LineReader reads lines the way a device's tty in canonical mode does:
// CR, LF and CR LF end a line, erase and kill characters edit it, ^C drops
// it, ^D on an empty line is end of file, and typed characters are echoed
// when echo is on.
type LineReader struct {
	// Src returns the next chunk of input; the slice may be reused after
	// the next call.
	Src func() ([]byte, error)
	// W receives the echo; it is flushed before each wait for input.
	W *bufio.Writer

	data   []byte
	pos    int
	line   []byte // reused between lines
	lastCR bool
	err    error
}

// special are the bytes the line discipline acts on.
var special = func() (t [256]bool) {
	for _, c := range []byte{'\r', '\n', 0x7f, 0x08, 0x03, 0x04, 0x15} {
		t[c] = true
	}
	return t
}()

// Next returns the next line without its end.
func (r *LineReader) Next(echo bool) (string, error) {
	line := r.line[:0]
	defer func() {
		if cap(line) <= 64<<10 {
			r.line = line
		}
	}()
	for {
		if r.pos == len(r.data) {
			if r.err != nil {
				return "", r.err
			}
			if err := r.W.Flush(); err != nil {
				return "", err
			}
			r.data, r.err = r.Src()
			r.pos = 0
			continue
		}
		// Fast path: ordinary characters up to the next special one go in
		// (and out, as echo) in one piece.
		if !special[r.data[r.pos]] && !r.lastCR {
			end := r.pos + 1
			for end < len(r.data) && !special[r.data[end]] {
				end++
			}
			run := r.data[r.pos:end]
			r.pos = end
			if room := MaxCanon - len(line); room < len(run) {
				run = run[:max(room, 0)]
			}
			line = append(line, run...)
			if echo {
				r.W.Write(run)
			}
			continue
		}
		b := r.data[r.pos]
		r.pos++
		if r.lastCR {
			r.lastCR = false
			if b == '\n' {
				continue // CR LF is one line end
			}
		}
		switch b {
		case '\r', '\n':
			r.lastCR = b == '\r'
			if echo {
				r.W.WriteString("\r\n")
			}
			return string(line), nil
		case 0x7f, 0x08: // erase
			if len(line) > 0 {
				line = line[:len(line)-1]
				if echo {
					r.W.WriteString("\b \b")
				}
			}
		case 0x03: // ^C: the tty discards the line
			if echo {
				r.W.WriteString("^C\r\n")
			}
			return "", nil
		case 0x04: // ^D on an empty line is end of file
			if len(line) == 0 {
				return "", io.EOF
			}
		case 0x15: // ^U kills the line
			line = line[:0]
		default:
			if len(line) < MaxCanon {
				line = append(line, b)
				if echo {
					r.W.WriteByte(b)
				}
			}
		}
	}
}
