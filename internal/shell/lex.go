package shell

import "strings"

// wordBuilder collects the parts of one word. A literal that is one piece
// of the source (the usual case) is kept as that substring; only literals
// built from several pieces are copied into lit. It lives on the stack of
// readWord (no closures), since every word of every line goes through it.
type wordBuilder struct {
	w         *word
	lit       strings.Builder
	one       string
	pieces    int
	litQuoted bool
}

func (b *wordBuilder) flush() {
	if b.pieces == 0 {
		return
	}
	text := b.one
	if b.pieces > 1 {
		text = b.lit.String()
		b.lit = strings.Builder{}
	}
	if text != "" {
		b.w.parts = append(b.w.parts, part{kind: pLit, text: text, quoted: b.litQuoted})
	}
	b.pieces = 0
}

func (b *wordBuilder) addLit(s string, quoted bool) {
	if b.pieces > 0 && b.litQuoted != quoted {
		b.flush()
	}
	b.litQuoted = quoted
	switch b.pieces {
	case 0:
		b.one = s
	case 1:
		b.lit.Grow(len(b.one) + len(s))
		b.lit.WriteString(b.one)
		b.lit.WriteString(s)
	default:
		b.lit.WriteString(s)
	}
	b.pieces++
}

func (b *wordBuilder) addPart(pt part) {
	b.flush()
	b.w.parts = append(b.w.parts, pt)
}

// readWord reads one word at pos (which is not a metacharacter).
func (p *parser) readWord() *word {
	w := p.newWord()
	b := wordBuilder{w: w}
	addLit, addPart := b.addLit, b.addPart
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if isMeta(c) {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.src) {
				p.pos++
				addLit("\\", false)
				continue
			}
			if p.src[p.pos+1] == '\n' {
				p.pos += 2
				continue
			}
			addLit(p.src[p.pos+1:p.pos+2], true)
			p.pos += 2
		case '\'':
			e := strings.IndexByte(p.src[p.pos+1:], '\'')
			if e < 0 {
				p.fail("unterminated quoted string")
			}
			addLit(p.src[p.pos+1:p.pos+1+e], true)
			if e == 0 {
				addPart(part{kind: pLit, text: "", quoted: true})
			}
			p.pos += e + 2
		case '"':
			p.pos++
			n := len(w.parts)
			p.readDouble(&b)
			b.flush()
			if len(w.parts) == n {
				addPart(part{kind: pLit, text: "", quoted: true})
			}
		case '$':
			if pt, ok := p.readDollar(false); ok {
				addPart(pt)
			} else {
				addLit("$", false)
			}
		case '`':
			addPart(p.readBacktick(false))
		default:
			s := p.pos
			for p.pos < len(p.src) && !wordStop[p.src[p.pos]] {
				p.pos++
			}
			addLit(p.src[s:p.pos], false)
		}
	}
	b.flush()
	return w
}

// readDouble reads a double-quoted string; pos is after the opening quote.
func (p *parser) readDouble(b *wordBuilder) {
	addLit, addPart := b.addLit, b.addPart
	for {
		if p.pos >= len(p.src) {
			p.fail("unterminated quoted string")
		}
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return
		case '\\':
			if p.pos+1 < len(p.src) && strings.IndexByte("$`\"\\\n", p.src[p.pos+1]) >= 0 {
				if p.src[p.pos+1] != '\n' {
					addLit(p.src[p.pos+1:p.pos+2], true)
				}
				p.pos += 2
			} else {
				addLit("\\", true)
				p.pos++
			}
		case '$':
			if pt, ok := p.readDollar(true); ok {
				addPart(pt)
			} else {
				addLit("$", true)
			}
		case '`':
			addPart(p.readBacktick(true))
		default:
			s := p.pos
			for p.pos < len(p.src) && strings.IndexByte("\"\\$`", p.src[p.pos]) < 0 {
				p.pos++
			}
			addLit(p.src[s:p.pos], true)
		}
	}
}

// readDollar reads an expansion at pos ('$'); ok is false for a lone $.
func (p *parser) readDollar(quoted bool) (part, bool) {
	s := p.src
	i := p.pos + 1
	if i >= len(s) {
		p.pos++
		return part{}, false
	}
	switch c := s[i]; {
	case c == '(' && i+1 < len(s) && s[i+1] == '(':
		e := matchParen(s, i+2, 2)
		if e < 0 {
			p.fail("unexpected end of file (expecting \"))\")")
		}
		p.pos = e
		return part{kind: pArith, text: s[i+2 : e-2], quoted: quoted}, true
	case c == '(':
		e := matchParen(s, i+1, 1)
		if e < 0 {
			p.fail("unexpected end of file (expecting \")\")")
		}
		p.pos = e
		return part{kind: pCmd, text: s[i+1 : e-1], quoted: quoted}, true
	case c == '{':
		e := i + 1
		for e < len(s) && (s[e] == '_' || isAlnum(s[e])) {
			e++
		}
		if e == i+1 && e < len(s) && strings.IndexByte("?$#!@*-0123456789", s[e]) >= 0 {
			e++
		}
		pt := part{kind: pParam, text: s[i+1 : e], quoted: quoted}
		if pt.text == "#" && e < len(s) && s[e] != '}' { // ${#name}
			f := e
			for f < len(s) && (s[f] == '_' || isAlnum(s[f])) {
				f++
			}
			pt.text, pt.op, e = s[e:f], "#", f
		}
		if pt.text == "" {
			p.fail("bad substitution")
		}
		if e < len(s) && s[e] != '}' && pt.op == "" {
			for _, op := range []string{":-", ":=", ":+", ":?", "-", "=", "+", "?", "##", "%%", "#", "%"} {
				if strings.HasPrefix(s[e:], op) {
					pt.op = op
					if op[0] == '#' || op[0] == '%' {
						pt.op = "trim" + op // "#" alone is ${#name}
					}
					e += len(op)
					break
				}
			}
			if pt.op == "" {
				p.fail("bad substitution")
			}
			if p.depth+1 > p.maxDepth {
				p.fail("nesting too deep")
			}
			sub := &parser{src: s, pos: e, maxDepth: p.maxDepth, depth: p.depth + 1}
			pt.arg = sub.readBraceArg(quoted)
			e = sub.pos
		}
		if e >= len(s) || s[e] != '}' {
			p.fail("bad substitution")
		}
		p.pos = e + 1
		return pt, true
	case c == '_' || isAlpha(c):
		e := i
		for e < len(s) && (s[e] == '_' || isAlnum(s[e])) {
			e++
		}
		p.pos = e
		return part{kind: pParam, text: s[i:e], quoted: quoted}, true
	case strings.IndexByte("?$#!@*-0123456789", c) >= 0:
		p.pos = i + 1
		return part{kind: pParam, text: s[i : i+1], quoted: quoted}, true
	}
	p.pos++
	return part{}, false
}

// readBraceArg reads the word of ${name:-word} up to the closing brace.
func (p *parser) readBraceArg(quoted bool) *word {
	w := &word{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			w.parts = append(w.parts, part{kind: pLit, text: lit.String(), quoted: quoted})
			lit.Reset()
		}
	}
	for p.pos < len(p.src) && p.src[p.pos] != '}' {
		switch c := p.src[p.pos]; c {
		case '$':
			if pt, ok := p.readDollar(quoted); ok {
				flush()
				w.parts = append(w.parts, pt)
			} else {
				lit.WriteByte('$')
			}
		case '\'':
			e := strings.IndexByte(p.src[p.pos+1:], '\'')
			if e < 0 || quoted {
				lit.WriteByte(c)
				p.pos++
				continue
			}
			flush()
			w.parts = append(w.parts, part{kind: pLit, text: p.src[p.pos+1 : p.pos+1+e], quoted: true})
			p.pos += e + 2
		case '\\':
			if p.pos+1 < len(p.src) {
				lit.WriteByte(p.src[p.pos+1])
				p.pos += 2
			} else {
				p.pos++
			}
		default:
			lit.WriteByte(c)
			p.pos++
		}
	}
	flush()
	return w
}

func (p *parser) readBacktick(quoted bool) part {
	var b strings.Builder
	i := p.pos + 1
	for {
		if i >= len(p.src) {
			p.fail("unterminated quoted string")
		}
		c := p.src[i]
		if c == '`' {
			break
		}
		if c == '\\' && i+1 < len(p.src) && strings.IndexByte("$`\\", p.src[i+1]) >= 0 {
			b.WriteByte(p.src[i+1])
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	p.pos = i + 1
	return part{kind: pCmd, text: b.String(), quoted: quoted}
}

// matchParen returns the index after the n closing parentheses that
// balance the opening ones before i, skipping quotes; -1 if none.
func matchParen(s string, i, n int) int {
	depth := n
	for i < len(s) {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			e := strings.IndexByte(s[i+1:], '\'')
			if e < 0 {
				return -1
			}
			i += e + 1
		case '"':
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// wordStop are the bytes that end a run of plain word characters: the
// metacharacters and the quoting and expansion characters.
var wordStop = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isMeta(byte(c)) || strings.IndexByte("\\'\"$`", byte(c)) >= 0
	}
	return t
}()
