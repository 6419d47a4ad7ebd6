// Package strace parses the output of `strace -f -ttt -yy -s N` into
// per-syscall records. The sandbox traces qemu-user (and the native shell)
// from the host side because qemu's own -strace neither decodes socket
// addresses nor keeps threads apart. The input is written by code the sample
// controls only indirectly (paths, buffers), so the parser never panics and
// bounds what it keeps.
package strace

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Kind tells what a Record is.
type Kind int

// Record kinds.
const (
	KindSyscall Kind = iota // a completed syscall
	KindSignal              // --- SIGxxx {...} ---
	KindExit                // +++ exited with N +++
	KindKilled              // +++ killed by SIGxxx +++
)

// Record is one event of one traced task.
type Record struct {
	PID    int
	Time   float64 // seconds since the epoch, from -ttt
	Kind   Kind
	Name   string   // syscall name
	Args   []string // top-level arguments, as printed
	Ret    string   // return value as printed, with decoration (3</etc/x>)
	RetVal int64    // numeric return value (-1 on error)
	Errno  string   // ENOENT …, empty on success
	Signal string   // KindSignal, KindKilled
	Status int      // KindExit
	Core   bool     // KindKilled: core dumped
}

// MaxLine bounds one line of input; longer lines are cut.
const MaxLine = 64 << 10

// Parser joins unfinished and resumed halves per task.
type Parser struct {
	pending map[int]string // pid → text of the unfinished call
}

// NewParser returns an empty parser.
func NewParser() *Parser { return &Parser{pending: map[int]string{}} }

// ParseAll reads every record from r.
func ParseAll(r io.Reader) ([]Record, error) {
	p := NewParser()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	var out []Record
	for sc.Scan() {
		if rec, ok := p.Line(sc.Text()); ok {
			out = append(out, rec)
		}
	}
	if err := sc.Err(); err != nil && err != bufio.ErrTooLong {
		return out, err
	}
	return out, nil
}

// Line parses one line; ok is false for lines that carry no record (the
// first half of an unfinished call, noise).
func (p *Parser) Line(line string) (Record, bool) {
	var rec Record
	line = strings.TrimRight(line, "\r\n")
	pidStr, rest, ok := strings.Cut(line, " ")
	if !ok {
		return rec, false
	}
	if strings.HasPrefix(pidStr, "[pid") { // strace without -o puts "[pid N]"
		return rec, false
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid < 0 {
		return rec, false
	}
	rest = strings.TrimLeft(rest, " ")
	ts, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return rec, false
	}
	t, err := strconv.ParseFloat(ts, 64)
	if err != nil {
		return rec, false
	}
	rec.PID, rec.Time = pid, t
	switch {
	case strings.HasPrefix(rest, "--- "):
		rec.Kind = KindSignal
		f := strings.Fields(rest)
		if len(f) < 2 {
			return rec, false
		}
		rec.Signal = f[1]
		return rec, true
	case strings.HasPrefix(rest, "+++ exited with "):
		rec.Kind = KindExit
		f := strings.Fields(strings.TrimPrefix(rest, "+++ exited with "))
		if len(f) == 0 {
			return rec, false
		}
		rec.Status, _ = strconv.Atoi(f[0])
		return rec, true
	case strings.HasPrefix(rest, "+++ killed by "):
		rec.Kind = KindKilled
		f := strings.Fields(strings.TrimPrefix(rest, "+++ killed by "))
		if len(f) == 0 {
			return rec, false
		}
		rec.Signal = f[0]
		rec.Core = strings.Contains(rest, "core dumped")
		return rec, true
	case strings.HasPrefix(rest, "<... "):
		// "<... connect resumed>, 16) = 0"
		name, tail, ok := strings.Cut(strings.TrimPrefix(rest, "<... "), " resumed>")
		if !ok {
			return rec, false
		}
		head, had := p.pending[pid]
		delete(p.pending, pid)
		if !had {
			head = name + "("
		}
		rest = head + tail
	}
	if i := strings.Index(rest, " <unfinished ...>"); i >= 0 && strings.HasSuffix(rest, "<unfinished ...>") {
		if len(p.pending) < 1<<16 {
			p.pending[pid] = rest[:i]
		}
		return rec, false
	}
	return p.call(rec, rest)
}

func (p *Parser) call(rec Record, s string) (Record, bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 {
		return rec, false
	}
	rec.Kind = KindSyscall
	rec.Name = s[:open]
	for _, c := range rec.Name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return rec, false
		}
	}
	args, end := splitArgs(s[open+1:])
	rec.Args = args
	tail := s[open+1+end:]
	eq := strings.Index(tail, ") = ")
	if eq < 0 {
		// "exit_group(0) = ?" is fine; anything without " = " has no return
		if i := strings.Index(tail, " = "); i >= 0 {
			eq = i - 1
		} else {
			rec.Ret = "?"
			return rec, true
		}
	}
	ret := strings.TrimSpace(tail[eq+4:])
	// "-1 ENOENT (No such file or directory)" or "3</etc/passwd>" or "0x7f…"
	val, more, _ := strings.Cut(ret, " ")
	rec.Ret = val
	num := val
	if i := strings.IndexByte(num, '<'); i > 0 {
		num = num[:i]
	}
	if v, err := strconv.ParseInt(num, 0, 64); err == nil {
		rec.RetVal = v
	} else if v, err := strconv.ParseUint(num, 0, 64); err == nil {
		rec.RetVal = int64(v)
	}
	if rec.RetVal < 0 && more != "" {
		rec.Errno, _, _ = strings.Cut(more, " ")
	}
	return rec, true
}

// splitArgs splits the argument list at top-level commas and returns the
// index just after the closing parenthesis (or len(s) if there is none).
func splitArgs(s string) ([]string, int) {
	var args []string
	depth, start := 0, 0
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case '(':
			depth++
		case '<':
			// fd decorations: 3</path> or 3<TCP:[…]>
			if i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
				if j := closeDecor(s, i); j > i {
					i = j
				}
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case ')':
			if depth == 0 {
				if a := strings.TrimSpace(s[start:i]); a != "" || len(args) > 0 {
					args = append(args, a)
				}
				return args, i
			}
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if a := strings.TrimSpace(s[start:]); a != "" {
		args = append(args, a)
	}
	return args, len(s)
}

// closeDecor returns the index of the '>' closing the decoration opened at i,
// honouring nested <…> that -yy prints for sockets.
func closeDecor(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '<':
			depth++
		case '>':
			depth--
			if depth == 0 {
				return j
			}
		case '\n':
			return -1
		}
	}
	return -1
}

// Decor returns the decoration of an fd argument or return value:
// "3</etc/passwd>" → "/etc/passwd".
func Decor(s string) string {
	i := strings.IndexByte(s, '<')
	if i < 0 || !strings.HasSuffix(s, ">") {
		return ""
	}
	return s[i+1 : len(s)-1]
}

// String decodes a quoted C string as strace prints it ("a\nb"...) and
// reports whether strace cut it (trailing ...).
func String(s string) (string, bool) {
	truncated := strings.HasSuffix(s, "...")
	s = strings.TrimSuffix(s, "...")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", truncated
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'x':
			if i+2 < len(s)+0 && i+2 <= len(s)-1 {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteByte('x')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			b.WriteByte(byte(v))
			i = j - 1
		default:
			b.WriteByte(e)
		}
	}
	return b.String(), truncated
}

// StringArray decodes ["a", "b"] (as in execve's argv).
func StringArray(s string) []string {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' {
		return nil
	}
	inner := s[1:]
	if j := strings.LastIndexByte(inner, ']'); j >= 0 {
		inner = inner[:j]
	}
	parts, _ := splitArgs(inner + ")")
	var out []string
	for _, p := range parts {
		if p == "..." || strings.HasPrefix(p, "/*") {
			continue
		}
		v, _ := String(p)
		out = append(out, v)
	}
	return out
}

// SockAddr extracts "ip:port" from {sa_family=AF_INET, sin_port=htons(80),
// sin_addr=inet_addr("1.2.3.4")} (and the AF_INET6 form); ok is false for
// other families.
func SockAddr(s string) (ip string, port int, family string, ok bool) {
	fam := field(s, "sa_family=")
	switch fam {
	case "AF_INET":
		ip = between(s, `inet_addr("`, `"`)
		port, _ = strconv.Atoi(between(s, "sin_port=htons(", ")"))
	case "AF_INET6":
		ip = between(s, `inet_pton(AF_INET6, "`, `"`)
		port, _ = strconv.Atoi(between(s, "sin6_port=htons(", ")"))
	default:
		return "", 0, fam, false
	}
	return ip, port, fam, ip != ""
}

func field(s, key string) string {
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	v := s[i+len(key):]
	if j := strings.IndexAny(v, ",}"); j >= 0 {
		v = v[:j]
	}
	return strings.TrimSpace(v)
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	v := s[i+len(a):]
	j := strings.Index(v, b)
	if j < 0 {
		return ""
	}
	return v[:j]
}
