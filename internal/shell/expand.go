package shell

import (
	"context"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// fieldB accumulates one field during expansion. It keeps the pieces and
// joins them only at the end, so the common one-piece word costs no copy,
// and it builds the glob pattern only when an unquoted glob character
// makes one necessary.
type fieldB struct {
	segs []seg
	n    int  // bytes held
	glob bool // holds an unquoted glob character
	any  bool // holds quoted (possibly empty) content
}

type seg struct {
	s      string
	quoted bool
}

func (f *fieldB) add(s string, quoted bool) {
	if f.n+len(s) > maxVarBytes {
		s = s[:max(maxVarBytes-f.n, 0)]
	}
	f.n += len(s)
	if quoted {
		f.any = true
	} else if strings.ContainsAny(s, "*?[") {
		f.glob = true
	}
	f.segs = append(f.segs, seg{s, quoted})
}

func (f *fieldB) empty() bool { return f.n == 0 && !f.any }

// text is the field's value.
func (f *fieldB) text() string {
	if len(f.segs) == 1 {
		return f.segs[0].s
	}
	var b strings.Builder
	b.Grow(f.n)
	for _, g := range f.segs {
		b.WriteString(g.s)
	}
	return b.String()
}

// pattern is the field as a glob pattern: quoted glob characters escaped.
func (f *fieldB) pattern() string {
	var b strings.Builder
	for _, g := range f.segs {
		if !g.quoted {
			b.WriteString(g.s)
			continue
		}
		for i := 0; i < len(g.s); i++ {
			if strings.IndexByte(`*?[\`, g.s[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(g.s[i])
		}
	}
	return b.String()
}

const ifsWhite = " \t\n"

// expandWords expands words into fields: parameters, command and
// arithmetic substitution, field splitting and pathname expansion.
func (s *Shell) expandWords(ctx context.Context, fr *frame, ws []*word, io stdio) ([]string, bool) {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if t, ok := plainWord(w); ok {
			out = append(out, t)
			continue
		}
		fs := []*fieldB{{}}
		cur := func() *fieldB { return fs[len(fs)-1] }
		for i, p := range w.parts {
			if p.kind == pLit {
				t := p.text
				if i == 0 && !p.quoted && strings.HasPrefix(t, "~") {
					t = s.tilde(t)
				}
				cur().add(t, p.quoted)
				continue
			}
			if p.kind == pParam && (p.text == "@" || p.text == "*") && p.op == "" {
				args := fr.args[1:]
				if p.quoted && p.text == "@" {
					if len(args) == 0 {
						continue
					}
					for j, a := range args {
						if j > 0 {
							fs = append(fs, &fieldB{})
						}
						cur().add(a, true)
					}
					continue
				}
			}
			v, ok := s.evalPart(ctx, fr, p, io)
			if !ok {
				return nil, false
			}
			if p.quoted {
				cur().add(v, true)
				continue
			}
			// field splitting on IFS whitespace
			ifs := s.ifs()
			for len(v) > 0 {
				j := strings.IndexAny(v, ifs)
				if j < 0 {
					cur().add(v, false)
					break
				}
				// A leading separator ends the current field.
				if j > 0 {
					cur().add(v[:j], false)
				}
				v = strings.TrimLeft(v[j:], ifs)
				if !cur().empty() {
					fs = append(fs, &fieldB{})
				}
			}
		}
		for _, f := range fs {
			if f.empty() {
				continue
			}
			if f.glob {
				if m := s.glob(f.pattern()); len(m) > 0 {
					out = append(out, m...)
					continue
				}
			}
			out = append(out, f.text())
		}
	}
	return out, true
}

// plainWord returns the field of a word that is one literal which needs
// no expansion (most words bots type), without building fields for it.
func plainWord(w *word) (string, bool) {
	if len(w.parts) != 1 || w.parts[0].kind != pLit {
		return "", false
	}
	p := w.parts[0]
	if !p.quoted && (p.text == "" || p.text[0] == '~' || strings.ContainsAny(p.text, "*?[")) {
		return "", false
	}
	t := p.text
	if len(t) > maxVarBytes {
		t = t[:maxVarBytes]
	}
	return t, true
}

func (s *Shell) ifs() string {
	v, ok := s.vars["IFS"]
	if !ok {
		return ifsWhite
	}
	if v == "" {
		return "\x00"
	}
	return v
}

// expandWord expands a word to one string (no splitting, no globbing), as
// for assignments and redirection targets.
func (s *Shell) expandWord(ctx context.Context, fr *frame, w *word, io stdio) (string, bool) {
	var b strings.Builder
	for i, p := range w.parts {
		if p.kind == pLit {
			t := p.text
			if i == 0 && !p.quoted && strings.HasPrefix(t, "~") {
				t = s.tilde(t)
			}
			b.WriteString(t)
			continue
		}
		v, ok := s.evalPart(ctx, fr, p, io)
		if !ok {
			return "", false
		}
		if b.Len()+len(v) > maxVarBytes {
			v = v[:max(maxVarBytes-b.Len(), 0)]
		}
		b.WriteString(v)
	}
	return b.String(), true
}

func (s *Shell) tilde(t string) string {
	end := strings.IndexByte(t, '/')
	if end < 0 {
		end = len(t)
	}
	user := t[1:end]
	if user == "" {
		return s.vars["HOME"] + t[end:]
	}
	if home, ok := s.userHome(user); ok {
		return home + t[end:]
	}
	return t
}

func (s *Shell) evalPart(ctx context.Context, fr *frame, p part, io stdio) (string, bool) {
	switch p.kind {
	case pCmd:
		return s.cmdSubst(ctx, fr, p.text, io)
	case pArith:
		src, ok := s.expandString(ctx, fr, p.text, io)
		if !ok {
			return "", false
		}
		n, err := s.arith(src)
		if err != nil {
			s.errf(fr, io, "", "%s", err)
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	}
	v, set := s.param(fr, p.text)
	switch p.op {
	case "#":
		return strconv.Itoa(len(v)), true
	case "trim#", "trim##", "trim%", "trim%%":
		pat, ok := s.expandWord(ctx, fr, p.arg, io)
		if !ok {
			return "", false
		}
		return trimPattern(v, pat, p.op[4:]), true
	case "-", ":-", "=", ":=", "+", ":+", "?", ":?":
		empty := !set || (strings.HasPrefix(p.op, ":") && v == "")
		op := strings.TrimPrefix(p.op, ":")
		switch op {
		case "-":
			if empty {
				return s.expandWord(ctx, fr, p.arg, io)
			}
		case "=":
			if empty {
				a, ok := s.expandWord(ctx, fr, p.arg, io)
				if ok && validName(p.text) {
					s.setVar(p.text, a)
				}
				return a, ok
			}
		case "+":
			if !empty {
				return s.expandWord(ctx, fr, p.arg, io)
			}
			return "", true
		case "?":
			if empty {
				a, _ := s.expandWord(ctx, fr, p.arg, io)
				if a == "" {
					a = "parameter not set"
				}
				s.errf(fr, io, "", "%s: %s", p.text, a)
				return "", false
			}
		}
	}
	return v, true
}

// expandString expands parameters and substitutions inside text (for
// $((...)) and here-documents).
func (s *Shell) expandString(ctx context.Context, fr *frame, text string, io stdio) (string, bool) {
	if !strings.ContainsAny(text, "$`") {
		return text, true
	}
	p := &parser{src: text, maxDepth: s.lim.MaxDepth * 4}
	var b strings.Builder
	ok := true
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, isSyn := r.(*syntaxError); !isSyn {
					panic(r)
				}
				ok = false
			}
		}()
		for p.pos < len(text) {
			c := text[p.pos]
			switch {
			case c == '\\' && p.pos+1 < len(text) && strings.IndexByte("$`\\", text[p.pos+1]) >= 0:
				b.WriteByte(text[p.pos+1])
				p.pos += 2
			case c == '$':
				pt, isExp := p.readDollar(true)
				if !isExp {
					b.WriteByte('$')
					continue
				}
				v, good := s.evalPart(ctx, fr, pt, io)
				if !good {
					ok = false
					return
				}
				b.WriteString(v)
			case c == '`':
				v, good := s.evalPart(ctx, fr, p.readBacktick(true), io)
				if !good {
					ok = false
					return
				}
				b.WriteString(v)
			default:
				b.WriteByte(c)
				p.pos++
			}
		}
	}()
	return b.String(), ok
}

func (s *Shell) expandHeredoc(ctx context.Context, fr *frame, body string, io stdio) string {
	v, _ := s.expandString(ctx, fr, body, io)
	return v
}

func (s *Shell) param(fr *frame, name string) (string, bool) {
	switch name {
	case "?":
		return strconv.Itoa(s.status), true
	case "$":
		return strconv.Itoa(s.pid), true
	case "!":
		if s.lastBG == 0 {
			return "", false
		}
		return strconv.Itoa(s.lastBG), true
	case "#":
		return strconv.Itoa(len(fr.args) - 1), true
	case "@", "*":
		return strings.Join(fr.args[1:], " "), true
	case "-":
		if fr.depth == 0 {
			return "imsV", true
		}
		return "", true
	case "RANDOM":
		return strconv.Itoa(s.rnd.Intn(32768)), true
	case "PPID":
		return strconv.Itoa(s.pid - 1 - s.pid%7), true
	case "LINENO":
		return strconv.Itoa(fr.line), true
	}
	if len(name) == 1 && name[0] >= '0' && name[0] <= '9' {
		i := int(name[0] - '0')
		if i < len(fr.args) {
			return fr.args[i], true
		}
		return "", false
	}
	v, ok := s.vars[name]
	return v, ok
}

// cmdSubst runs $(...) and returns its output without trailing newlines.
func (s *Shell) cmdSubst(ctx context.Context, fr *frame, src string, io stdio) (string, bool) {
	if fr.depth+1 > s.lim.MaxDepth {
		s.errf(fr, io, "", "can't fork: Resource temporarily unavailable")
		return "", false
	}
	l, err := parse(src, s.lim.MaxDepth*4)
	if err != nil {
		s.errf(fr, io, "", "%v", err)
		return "", false
	}
	buf := &limitBuffer{max: s.lim.MaxFileBytes}
	sub := *fr
	sub.depth++
	sub.exit = false
	s.runList(ctx, &sub, l, stdio{in: io.in, out: buf, err: io.err})
	if sub.exit {
		s.status = sub.exitCode
	}
	s.substRan = true
	return strings.TrimRight(buf.String(), "\n"), true
}

// glob expands a pattern against the VFS; nil when nothing matches.
func (s *Shell) glob(pat string) []string {
	abs := strings.HasPrefix(pat, "/")
	parts := strings.Split(strings.Trim(pat, "/"), "/")
	bases := []string{""}
	for i, comp := range parts {
		last := i == len(parts)-1
		var next []string
		for _, b := range bases {
			dir := b
			if dir == "" {
				if abs {
					dir = "/"
				} else {
					dir = "."
				}
			}
			if !hasMeta(comp) {
				cand := joinRel(b, unescape(comp), abs)
				if _, _, err := s.fs.lookup(s.cwd, cand, true); err == nil || (last && false) {
					next = append(next, cand)
				}
				continue
			}
			rp, n, err := s.fs.lookup(s.cwd, dir, true)
			if err != nil || !n.isDir() {
				continue
			}
			for _, name := range s.fs.children(rp) {
				if strings.HasPrefix(name, ".") && !strings.HasPrefix(comp, ".") {
					continue
				}
				if ok, _ := path.Match(comp, name); ok {
					next = append(next, joinRel(b, name, abs))
				}
			}
		}
		bases = next
		if len(bases) == 0 || len(bases) > 1000 {
			return nil
		}
	}
	return bases
}

func joinRel(base, name string, abs bool) string {
	if base == "" {
		if abs {
			return "/" + name
		}
		return name
	}
	return strings.TrimSuffix(base, "/") + "/" + name
}

func hasMeta(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// trimPattern removes the shortest (# %) or longest (## %%) prefix (#) or
// suffix (%) of v matching the shell pattern pat: ${X##*/}, ${X%.*}.
func trimPattern(v, pat, op string) string {
	re, err := regexp.Compile("^" + patternRE(pat) + "$")
	if err != nil {
		return v
	}
	longest := len(op) == 2
	if op[0] == '#' {
		for i := 0; i <= len(v); i++ {
			k := i
			if longest {
				k = len(v) - i
			}
			if re.MatchString(v[:k]) {
				return v[k:]
			}
		}
		return v
	}
	for i := 0; i <= len(v); i++ {
		k := len(v) - i
		if longest {
			k = i
		}
		if re.MatchString(v[k:]) {
			return v[:k]
		}
	}
	return v
}

// patternRE turns a shell pattern into a regular expression where * and
// ? match any character, '/' included (unlike path.Match).
func patternRE(pat string) string {
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			b.WriteString(`(?s:.*)`)
		case '?':
			b.WriteString(`(?s:.)`)
		case '\\':
			if i+1 < len(pat) {
				i++
				b.WriteString(regexp.QuoteMeta(pat[i : i+1]))
			}
		case '[':
			j := strings.IndexByte(pat[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pat[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}
