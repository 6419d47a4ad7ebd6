package shell

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// An awk subset for what bots feed it: recon one-liners such as
// `free -m | grep Mem | awk '{print $2 ,$3}'`, `awk -F: '$3==0{print $1}'`,
// `df -h | awk 'FNR == 2 {print $2;}'`. It has patterns (BEGIN, END,
// /regex/, expressions), print/printf, if/while/for/for-in, arrays,
// fields with FS/OFS/NF/NR/FNR, and the string builtins. Not modelled:
// getline, user functions, output redirection, system().

var errAwkSyntax = errors.New("Unexpected token")

type awkTok struct {
	kind byte // 'n' number, 's' string, 'r' regex, 'i' name, 'b' builtin, 'k' keyword, 'o' operator, ';' terminator, 0 EOF
	text string
	num  float64
}

var awkKeywords = map[string]bool{"BEGIN": true, "END": true, "if": true, "else": true, "while": true, "for": true,
	"do": true, "in": true, "print": true, "printf": true, "next": true, "exit": true, "delete": true, "break": true, "continue": true}

var awkBuiltins = map[string]bool{"length": true, "substr": true, "index": true, "split": true, "sub": true, "gsub": true,
	"match": true, "sprintf": true, "tolower": true, "toupper": true, "int": true, "sqrt": true, "exp": true, "log": true}

// awkLex splits src into tokens; a '/' starts a regex where an operand is
// expected (after an operator, '(' ',' or a line start).
func awkLex(src string) ([]awkTok, error) {
	var toks []awkTok
	operandEnd := func() bool {
		if len(toks) == 0 {
			return false
		}
		t := toks[len(toks)-1]
		switch t.kind {
		case 'n', 's', 'r', 'i':
			return true
		case 'b':
			return true
		case 'o':
			return t.text == ")" || t.text == "]" || t.text == "$" || t.text == "++" || t.text == "--"
		}
		return false
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\n' || c == ';':
			toks = append(toks, awkTok{kind: ';', text: string(c)})
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '-' || src[j] == '+') && j > i && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			n, err := strconv.ParseFloat(src[i:j], 64)
			if err != nil {
				return nil, errAwkSyntax
			}
			toks = append(toks, awkTok{kind: 'n', text: src[i:j], num: n})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			w := src[i:j]
			k := byte('i')
			if awkKeywords[w] {
				k = 'k'
			} else if awkBuiltins[w] {
				k = 'b'
			}
			toks = append(toks, awkTok{kind: k, text: w})
			i = j
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
					b.WriteString(awkEscape(src, &j))
					continue
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, errAwkSyntax
			}
			toks = append(toks, awkTok{kind: 's', text: b.String()})
			i = j + 1
		case c == '/' && !operandEnd():
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != '/'; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					if src[j+1] == '/' {
						b.WriteByte('/')
					} else {
						b.WriteByte('\\')
						b.WriteByte(src[j+1])
					}
					j++
					continue
				}
				if src[j] == '\n' {
					return nil, errAwkSyntax
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, errAwkSyntax
			}
			toks = append(toks, awkTok{kind: 'r', text: b.String()})
			i = j + 1
		default:
			op := ""
			for _, o := range []string{"&&", "||", "==", "!=", "<=", ">=", "++", "--", "+=", "-=", "*=", "/=", "%=", "^=", "!~", ">>"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				if !strings.ContainsRune("{}()[],$+-*/%^!<>=~?:", rune(c)) {
					return nil, errAwkSyntax
				}
				op = string(c)
			}
			toks = append(toks, awkTok{kind: 'o', text: op})
			i += len(op)
		}
	}
	return toks, nil
}

// awkEscape decodes the escape after the backslash at src[*j] (left on its
// last byte).
func awkEscape(src string, j *int) string {
	switch c := src[*j]; c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case '\\':
		return "\\"
	case '"':
		return "\""
	case '/':
		return "/"
	case 'a':
		return "\a"
	case 'b':
		return "\b"
	case 'f':
		return "\f"
	case 'v':
		return "\v"
	default:
		if c >= '0' && c <= '7' {
			v, k := 0, 0
			for ; k < 3 && *j < len(src) && src[*j] >= '0' && src[*j] <= '7'; k++ {
				v = v*8 + int(src[*j]-'0')
				*j++
			}
			*j--
			return string([]byte{byte(v)})
		}
		return "\\" + string(c)
	}
}

// awk syntax tree.
type awkExpr struct {
	op   string // "num" "str" "re" "var" "field" "idx" "call" "in" "cond" "assign" "incr" "decr" "postincr" "postdecr" "neg" "not" "plus", binary ops, "concat", "group"
	num  float64
	str  string
	re   *regexp.Regexp
	args []*awkExpr
}

type awkStmt struct {
	kind   string // "print" "printf" "expr" "if" "while" "do" "for" "forin" "block" "next" "exit" "delete" "break" "continue"
	exprs  []*awkExpr
	body   []*awkStmt
	els    []*awkStmt
	init   *awkStmt
	step   *awkStmt
	varNam string
	arr    string
}

type awkRule struct {
	begin, end bool
	pattern    *awkExpr
	action     []*awkStmt // nil: print $0
}

type awkParser struct {
	toks []awkTok
	pos  int
}

func (p *awkParser) peek() awkTok {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return awkTok{}
}

func (p *awkParser) is(kind byte, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}

func (p *awkParser) accept(kind byte, text string) bool {
	if p.is(kind, text) {
		p.pos++
		return true
	}
	return false
}

func (p *awkParser) expect(kind byte, text string) {
	if !p.accept(kind, text) {
		panic(errAwkSyntax)
	}
}

func (p *awkParser) skipNL() {
	for p.peek().kind == ';' && p.peek().text == "\n" {
		p.pos++
	}
}

func (p *awkParser) skipTerms() {
	for p.peek().kind == ';' {
		p.pos++
	}
}

// parseAwk parses a program; syntax errors come back as errAwkSyntax.
func parseAwk(src string) (rules []awkRule, err error) {
	toks, err := awkLex(src)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && e == errAwkSyntax {
				rules, err = nil, errAwkSyntax
				return
			}
			panic(r)
		}
	}()
	p := &awkParser{toks: toks}
	p.skipTerms()
	for p.peek().kind != 0 {
		var r awkRule
		switch {
		case p.accept('k', "BEGIN"):
			r.begin = true
		case p.accept('k', "END"):
			r.end = true
		case p.is('o', "{"):
		default:
			r.pattern = p.expr(false)
		}
		if p.is('o', "{") {
			r.action = p.block()
			if r.action == nil {
				r.action = []*awkStmt{}
			}
		} else if r.begin || r.end {
			panic(errAwkSyntax)
		}
		rules = append(rules, r)
		p.skipTerms()
	}
	return rules, nil
}

func (p *awkParser) block() []*awkStmt {
	p.expect('o', "{")
	var l []*awkStmt
	for {
		p.skipTerms()
		if p.accept('o', "}") {
			return l
		}
		if p.peek().kind == 0 {
			panic(errAwkSyntax)
		}
		l = append(l, p.stmt())
	}
}

// body is a block or a single statement (after if/while/for/else).
func (p *awkParser) body() []*awkStmt {
	p.skipNL()
	if p.is('o', "{") {
		return p.block()
	}
	if p.accept(';', ";") {
		return nil
	}
	return []*awkStmt{p.stmt()}
}

func (p *awkParser) endSimple() {
	if p.peek().kind == ';' {
		p.pos++
		return
	}
	if p.is('o', "}") || p.peek().kind == 0 {
		return
	}
	panic(errAwkSyntax)
}

func (p *awkParser) stmt() *awkStmt {
	t := p.peek()
	if t.kind == 'o' && t.text == "{" {
		return &awkStmt{kind: "block", body: p.block()}
	}
	if t.kind == 'k' {
		p.pos++
		switch t.text {
		case "print", "printf":
			s := &awkStmt{kind: t.text}
			paren := false
			if p.is('o', "(") {
				// print (a, b) — a grouped list
				save := p.pos
				p.pos++
				l := p.exprList(false)
				if p.accept('o', ")") && (p.peek().kind == ';' || p.is('o', "}") || p.peek().kind == 0) {
					s.exprs, paren = l, true
				} else {
					p.pos = save
				}
			}
			if !paren && p.peek().kind != ';' && !p.is('o', "}") && p.peek().kind != 0 {
				s.exprs = p.exprList(true)
			}
			if t.text == "printf" && len(s.exprs) == 0 {
				panic(errAwkSyntax)
			}
			p.endSimple()
			return s
		case "if":
			p.expect('o', "(")
			s := &awkStmt{kind: "if", exprs: []*awkExpr{p.expr(false)}}
			p.expect('o', ")")
			s.body = p.body()
			save := p.pos
			p.skipTerms()
			if p.accept('k', "else") {
				s.els = p.body()
			} else {
				p.pos = save
			}
			return s
		case "while":
			p.expect('o', "(")
			s := &awkStmt{kind: "while", exprs: []*awkExpr{p.expr(false)}}
			p.expect('o', ")")
			s.body = p.body()
			return s
		case "do":
			s := &awkStmt{kind: "do", body: p.body()}
			p.skipTerms()
			p.expect('k', "while")
			p.expect('o', "(")
			s.exprs = []*awkExpr{p.expr(false)}
			p.expect('o', ")")
			p.endSimple()
			return s
		case "for":
			p.expect('o', "(")
			if p.peek().kind == 'i' && p.pos+2 < len(p.toks) && p.toks[p.pos+1].kind == 'k' && p.toks[p.pos+1].text == "in" &&
				p.toks[p.pos+2].kind == 'i' && p.pos+3 < len(p.toks) && p.toks[p.pos+3].text == ")" {
				s := &awkStmt{kind: "forin", varNam: p.toks[p.pos].text, arr: p.toks[p.pos+2].text}
				p.pos += 4
				s.body = p.body()
				return s
			}
			s := &awkStmt{kind: "for"}
			if !p.is(';', ";") {
				s.init = &awkStmt{kind: "expr", exprs: []*awkExpr{p.expr(false)}}
			}
			p.expect(';', ";")
			if !p.is(';', ";") {
				s.exprs = []*awkExpr{p.expr(false)}
			}
			p.expect(';', ";")
			if !p.is('o', ")") {
				s.step = &awkStmt{kind: "expr", exprs: []*awkExpr{p.expr(false)}}
			}
			p.expect('o', ")")
			s.body = p.body()
			return s
		case "next", "break", "continue":
			p.endSimple()
			return &awkStmt{kind: t.text}
		case "exit":
			s := &awkStmt{kind: "exit"}
			if p.peek().kind != ';' && !p.is('o', "}") && p.peek().kind != 0 {
				s.exprs = []*awkExpr{p.expr(false)}
			}
			p.endSimple()
			return s
		case "delete":
			n := p.peek()
			if n.kind != 'i' {
				panic(errAwkSyntax)
			}
			p.pos++
			s := &awkStmt{kind: "delete", arr: n.text}
			if p.accept('o', "[") {
				s.exprs = p.exprList(false)
				p.expect('o', "]")
			}
			p.endSimple()
			return s
		}
		panic(errAwkSyntax)
	}
	s := &awkStmt{kind: "expr", exprs: []*awkExpr{p.expr(false)}}
	p.endSimple()
	return s
}

func (p *awkParser) exprList(noGT bool) []*awkExpr {
	l := []*awkExpr{p.expr(noGT)}
	for p.accept('o', ",") {
		p.skipNL()
		l = append(l, p.expr(noGT))
	}
	return l
}

// expr parses a full expression; noGT stops at '>' (print redirection,
// which this subset refuses).
func (p *awkParser) expr(noGT bool) *awkExpr {
	return p.ternary(noGT)
}

func (p *awkParser) ternary(noGT bool) *awkExpr {
	c := p.or(noGT)
	if p.accept('o', "?") {
		p.skipNL()
		a := p.ternary(noGT)
		p.skipNL()
		p.expect('o', ":")
		p.skipNL()
		b := p.ternary(noGT)
		return &awkExpr{op: "cond", args: []*awkExpr{c, a, b}}
	}
	for _, op := range []string{"=", "+=", "-=", "*=", "/=", "%=", "^="} {
		if p.is('o', op) {
			if c.op != "var" && c.op != "field" && c.op != "idx" {
				panic(errAwkSyntax)
			}
			p.pos++
			p.skipNL()
			return &awkExpr{op: "assign", str: op, args: []*awkExpr{c, p.ternary(noGT)}}
		}
	}
	return c
}

func (p *awkParser) or(noGT bool) *awkExpr {
	l := p.and(noGT)
	for p.accept('o', "||") {
		p.skipNL()
		l = &awkExpr{op: "||", args: []*awkExpr{l, p.and(noGT)}}
	}
	return l
}

func (p *awkParser) and(noGT bool) *awkExpr {
	l := p.in(noGT)
	for p.accept('o', "&&") {
		p.skipNL()
		l = &awkExpr{op: "&&", args: []*awkExpr{l, p.in(noGT)}}
	}
	return l
}

func (p *awkParser) in(noGT bool) *awkExpr {
	l := p.match(noGT)
	for p.is('k', "in") {
		p.pos++
		n := p.peek()
		if n.kind != 'i' {
			panic(errAwkSyntax)
		}
		p.pos++
		l = &awkExpr{op: "in", str: n.text, args: []*awkExpr{l}}
	}
	return l
}

func (p *awkParser) match(noGT bool) *awkExpr {
	l := p.compare(noGT)
	for p.is('o', "~") || p.is('o', "!~") {
		op := p.peek().text
		p.pos++
		l = &awkExpr{op: op, args: []*awkExpr{l, p.compare(noGT)}}
	}
	return l
}

func (p *awkParser) compare(noGT bool) *awkExpr {
	l := p.concat(noGT)
	for _, op := range []string{"<", "<=", "!=", "==", ">", ">="} {
		if p.is('o', op) && !(noGT && op == ">") {
			p.pos++
			return &awkExpr{op: op, args: []*awkExpr{l, p.concat(noGT)}}
		}
	}
	return l
}

func (p *awkParser) startsOperand() bool {
	t := p.peek()
	switch t.kind {
	case 'n', 's', 'r', 'i', 'b':
		return true
	case 'o':
		return t.text == "$" || t.text == "(" || t.text == "!" || t.text == "++" || t.text == "--"
	}
	return false
}

func (p *awkParser) concat(noGT bool) *awkExpr {
	l := p.additive()
	for p.startsOperand() && !p.is('k', "in") {
		l = &awkExpr{op: "concat", args: []*awkExpr{l, p.additive()}}
	}
	return l
}

func (p *awkParser) additive() *awkExpr {
	l := p.mult()
	for p.is('o', "+") || p.is('o', "-") {
		op := p.peek().text
		p.pos++
		l = &awkExpr{op: op, args: []*awkExpr{l, p.mult()}}
	}
	return l
}

func (p *awkParser) mult() *awkExpr {
	l := p.unary()
	for p.is('o', "*") || p.is('o', "/") || p.is('o', "%") {
		op := p.peek().text
		p.pos++
		l = &awkExpr{op: op, args: []*awkExpr{l, p.unary()}}
	}
	return l
}

func (p *awkParser) unary() *awkExpr {
	switch {
	case p.accept('o', "!"):
		return &awkExpr{op: "not", args: []*awkExpr{p.unary()}}
	case p.accept('o', "-"):
		return &awkExpr{op: "neg", args: []*awkExpr{p.unary()}}
	case p.accept('o', "+"):
		return &awkExpr{op: "plus", args: []*awkExpr{p.unary()}}
	}
	return p.power()
}

func (p *awkParser) power() *awkExpr {
	l := p.postfix()
	if p.accept('o', "^") {
		return &awkExpr{op: "^", args: []*awkExpr{l, p.unary()}}
	}
	return l
}

func (p *awkParser) postfix() *awkExpr {
	if p.is('o', "++") || p.is('o', "--") {
		op := map[string]string{"++": "incr", "--": "decr"}[p.peek().text]
		p.pos++
		return &awkExpr{op: op, args: []*awkExpr{p.lvalue(p.primary())}}
	}
	e := p.primary()
	if e.op == "var" || e.op == "field" || e.op == "idx" {
		if p.accept('o', "++") {
			return &awkExpr{op: "postincr", args: []*awkExpr{e}}
		}
		if p.accept('o', "--") {
			return &awkExpr{op: "postdecr", args: []*awkExpr{e}}
		}
	}
	return e
}

func (p *awkParser) lvalue(e *awkExpr) *awkExpr {
	if e.op != "var" && e.op != "field" && e.op != "idx" {
		panic(errAwkSyntax)
	}
	return e
}

func (p *awkParser) primary() *awkExpr {
	t := p.peek()
	p.pos++
	switch t.kind {
	case 'n':
		return &awkExpr{op: "num", num: t.num}
	case 's':
		return &awkExpr{op: "str", str: t.text}
	case 'r':
		re, err := regexp.Compile(eregToRE(t.text))
		if err != nil {
			panic(errAwkSyntax)
		}
		return &awkExpr{op: "re", str: t.text, re: re}
	case 'i':
		if p.accept('o', "[") {
			e := &awkExpr{op: "idx", str: t.text, args: p.exprList(false)}
			p.expect('o', "]")
			return e
		}
		return &awkExpr{op: "var", str: t.text}
	case 'b':
		e := &awkExpr{op: "call", str: t.text}
		if p.accept('o', "(") {
			if !p.accept('o', ")") {
				e.args = p.exprList(false)
				p.expect('o', ")")
			}
		} else if t.text != "length" {
			panic(errAwkSyntax)
		}
		return e
	case 'o':
		switch t.text {
		case "$":
			return &awkExpr{op: "field", args: []*awkExpr{p.postfixNoIncr()}}
		case "(":
			l := p.exprList(false)
			p.expect('o', ")")
			if len(l) > 1 {
				if p.is('k', "in") {
					p.pos++
					n := p.peek()
					p.pos++
					return &awkExpr{op: "in", str: n.text, args: l}
				}
				panic(errAwkSyntax)
			}
			return &awkExpr{op: "group", args: l}
		case "-":
			return &awkExpr{op: "neg", args: []*awkExpr{p.unary()}}
		case "!":
			return &awkExpr{op: "not", args: []*awkExpr{p.unary()}}
		}
	}
	panic(errAwkSyntax)
}

// postfixNoIncr is the operand of '$': a primary without post-increment
// ($i++ increments the field, not i).
func (p *awkParser) postfixNoIncr() *awkExpr {
	if p.accept('o', "-") {
		return &awkExpr{op: "neg", args: []*awkExpr{p.primary()}}
	}
	if p.is('o', "++") || p.is('o', "--") {
		return p.postfix()
	}
	return p.primary()
}

// eregToRE adapts a POSIX extended regular expression to Go syntax:
// bracket classes like [[:digit:]] are the same; a literal '{' not
// starting a repetition is escaped.
func eregToRE(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			continue
		}
		if c == '{' && (i+1 >= len(p) || p[i+1] < '0' || p[i+1] > '9') {
			b.WriteString(`\{`)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
