package shell

import (
	"fmt"
	"strings"
)

// The parser covers the ash grammar bots use: lists (; & newline), and-or
// lists, pipelines with !, simple commands with assignments and
// redirections, if/while/until/for, { } groups and ( ) subshells, quotes,
// backslashes, $VAR ${VAR} ${VAR:-w} $? $$ $# $1, $(...), `...`, $((...))
// and here-documents.

type partKind uint8

const (
	pLit   partKind = iota // literal text
	pParam                 // $name, ${name…}
	pCmd                   // $(...) or `...`
	pArith                 // $((...))
)

type part struct {
	kind   partKind
	text   string
	quoted bool
	op     string // ${name<op>arg}: "-", ":-", "=", ":=", "+", ":+", "#" (length)
	arg    *word
}

type word struct {
	parts []part
	first [1]part // parts' first backing array: most words have one part
}

func (w *word) String() string {
	var b strings.Builder
	for _, p := range w.parts {
		switch p.kind {
		case pLit:
			b.WriteString(p.text)
		case pParam:
			b.WriteString("${" + p.text + "}")
		case pCmd:
			b.WriteString("$(" + p.text + ")")
		case pArith:
			b.WriteString("$((" + p.text + "))")
		}
	}
	return b.String()
}

// literal reports the word's text if it has no expansions and no quotes.
func (w *word) literal() (string, bool) {
	var b strings.Builder
	for _, p := range w.parts {
		if p.kind != pLit || p.quoted {
			return "", false
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

type redir struct {
	fd     int
	op     string // ">", ">>", "<", ">&", "<&", "<<", "<>"
	target *word
	body   string // here-document
	strip  bool   // <<-
	quoted bool   // here-document delimiter quoted: no expansion
}

type assign struct {
	name  string
	value *word
}

type command interface{}

type simpleCmd struct {
	line    int
	assigns []assign
	args    []*word
	redirs  []*redir
}

type ifCmd struct {
	conds, bodies []*list
	els           *list
	redirs        []*redir
}

type loopCmd struct {
	until      bool
	cond, body *list
	redirs     []*redir
}

type forCmd struct {
	name   string
	items  []*word
	hasIn  bool
	body   *list
	redirs []*redir
}

type groupCmd struct {
	body     *list
	subshell bool
	redirs   []*redir
}

type caseItem struct {
	patterns []*word
	body     *list
}

type caseCmd struct {
	subject *word
	items   []caseItem
	redirs  []*redir
}

type funcDef struct {
	name string
	body command
}

type pipeline struct {
	bang bool
	cmds []command
}

type andOr struct {
	pipes []*pipeline
	ops   []string // "&&" or "||" between pipes
	bg    bool
}

type list struct {
	items []*andOr
}

type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "syntax error: " + e.msg }

type parser struct {
	src      string
	pos      int
	depth    int
	maxDepth int
	pending  []*redir // here-documents waiting for the next newline
	open     bool     // a here-document ran to the end of src without its delimiter
	lpos     int      // lineAt cache: position and its line number
	lline    int
	words    []word // words are handed out from blocks: one allocation for several
}

// newWord returns an empty word from the parser's current block.
func (p *parser) newWord() *word {
	if len(p.words) == 0 {
		p.words = make([]word, 8)
	}
	w := &p.words[0]
	p.words = p.words[1:]
	w.parts = w.first[:0]
	return w
}

// lineAt returns the 1-based line number of pos; positions are mostly
// increasing, so it counts from the last answer.
func (p *parser) lineAt(pos int) int {
	if pos < p.lpos {
		p.lpos, p.lline = 0, 0
	}
	p.lline += strings.Count(p.src[p.lpos:pos], "\n")
	p.lpos = pos
	return p.lline + 1
}

// maxReserved is the length of the longest reserved word.
const maxReserved = 5

var reserved = map[string]bool{
	"if": true, "then": true, "elif": true, "else": true, "fi": true,
	"while": true, "until": true, "for": true, "do": true, "done": true,
	"in": true, "case": true, "esac": true, "{": true, "}": true, "!": true,
}

// reservedStart are the first bytes of the reserved words.
var reservedStart = func() (t [256]bool) {
	for w := range reserved {
		t[w[0]] = true
	}
	return t
}()

func parse(src string, maxDepth int) (l *list, err error) {
	p := &parser{src: src, maxDepth: maxDepth}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			l, err = nil, se
		}
	}()
	l = p.parseList(nil)
	p.skipSpace(true)
	if p.pos < len(p.src) {
		p.unexpected()
	}
	return l, nil
}

func (p *parser) fail(format string, a ...any) {
	panic(&syntaxError{fmt.Sprintf(format, a...)})
}

func (p *parser) unexpected() {
	if p.pos >= len(p.src) {
		p.fail("unexpected end of file")
	}
	tok := p.peekToken()
	if tok == "\n" {
		p.fail("unexpected newline")
	}
	p.fail("unexpected %q", tok)
}

func (p *parser) expectWord(w string) {
	p.skipSpace(true)
	if p.peekReserved() != w {
		if p.pos >= len(p.src) {
			p.fail("unexpected end of file (expecting %q)", w)
		}
		tok := p.peekToken()
		if tok == "\n" {
			tok = "newline"
			p.fail("unexpected %s (expecting %q)", tok, w)
		}
		p.fail("unexpected %q (expecting %q)", tok, w)
	}
	p.pos += len(w)
}

// skipSpace skips blanks and comments; with nl also newlines.
func (p *parser) skipSpace(nl bool) {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			p.pos += 2
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '\n' && nl:
			p.pos++
			p.readHeredocs()
		default:
			return
		}
	}
}

func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

// peekToken returns the next operator or word (raw) for error messages.
func (p *parser) peekToken() string {
	for _, op := range []string{"&&", "||", ";;", ">>", "<<", ">&", "<&", ";", "&", "|", "(", ")", "<", ">", "\n"} {
		if strings.HasPrefix(p.src[p.pos:], op) {
			return op
		}
	}
	e := p.pos
	for e < len(p.src) && !isMeta(p.src[e]) {
		e++
	}
	return p.src[p.pos:e]
}

// peekReserved returns the reserved word at pos, if any.
func (p *parser) peekReserved() string {
	if p.pos >= len(p.src) || !reservedStart[p.src[p.pos]] {
		return "" // most commands start with a path or a name: no scan
	}
	e := p.pos
	for e < len(p.src) && !isMeta(p.src[e]) {
		c := p.src[e]
		if c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' {
			return ""
		}
		e++
	}
	w := p.src[p.pos:e]
	if len(w) <= maxReserved && reserved[w] {
		return w
	}
	return ""
}

// parseList parses and-or lists until a reserved word in stop, ")", or
// the end of input.
func (p *parser) parseList(stop map[string]bool) *list {
	p.depth++
	if p.depth > p.maxDepth {
		p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	l := &list{}
	for {
		p.skipSpace(true)
		if p.pos >= len(p.src) || p.src[p.pos] == ')' || p.startsWith(";;") {
			return l
		}
		if r := p.peekReserved(); r != "" && stop[r] {
			return l
		}
		ao := p.parseAndOr()
		l.items = append(l.items, ao)
		p.skipSpace(false)
		if p.pos >= len(p.src) {
			return l
		}
		switch c := p.src[p.pos]; {
		case c == '&' && !p.startsWith("&&"):
			ao.bg = true
			p.pos++
		case c == ';' && !p.startsWith(";;"):
			p.pos++
		case c == '\n':
			p.pos++
			p.readHeredocs()
		case c == ')' || p.startsWith(";;"):
			return l
		default:
			p.unexpected()
		}
	}
}

func (p *parser) startsWith(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

func (p *parser) parseAndOr() *andOr {
	ao := &andOr{pipes: []*pipeline{p.parsePipeline()}}
	for {
		p.skipSpace(false)
		var op string
		switch {
		case p.startsWith("&&"):
			op = "&&"
		case p.startsWith("||"):
			op = "||"
		default:
			return ao
		}
		p.pos += 2
		p.skipSpace(true)
		ao.ops = append(ao.ops, op)
		ao.pipes = append(ao.pipes, p.parsePipeline())
	}
}

func (p *parser) parsePipeline() *pipeline {
	pl := &pipeline{}
	p.skipSpace(false)
	if p.peekReserved() == "!" {
		pl.bang = true
		p.pos++
	}
	for {
		pl.cmds = append(pl.cmds, p.parseCommand())
		p.skipSpace(false)
		if p.startsWith("|") && !p.startsWith("||") {
			p.pos++
			p.skipSpace(true)
			continue
		}
		return pl
	}
}

func (p *parser) parseCommand() command {
	p.skipSpace(false)
	if p.pos >= len(p.src) {
		p.fail("unexpected end of file")
	}
	switch p.peekReserved() {
	case "if":
		p.pos += 2
		c := &ifCmd{}
		for {
			c.conds = append(c.conds, p.parseList(map[string]bool{"then": true}))
			p.expectWord("then")
			c.bodies = append(c.bodies, p.parseList(map[string]bool{"elif": true, "else": true, "fi": true}))
			p.skipSpace(true)
			switch p.peekReserved() {
			case "elif":
				p.pos += 4
				continue
			case "else":
				p.pos += 4
				c.els = p.parseList(map[string]bool{"fi": true})
			}
			p.expectWord("fi")
			c.redirs = p.parseRedirs()
			return c
		}
	case "while", "until":
		c := &loopCmd{until: p.peekReserved() == "until"}
		p.pos += 5
		c.cond = p.parseList(map[string]bool{"do": true})
		p.expectWord("do")
		c.body = p.parseList(map[string]bool{"done": true})
		p.expectWord("done")
		c.redirs = p.parseRedirs()
		return c
	case "for":
		p.pos += 3
		p.skipSpace(false)
		w := p.readWord()
		name, ok := w.literal()
		if !ok || !validName(name) {
			p.fail("bad for loop variable")
		}
		c := &forCmd{name: name}
		p.skipSpace(true)
		if p.peekReserved() == "in" {
			p.pos += 2
			c.hasIn = true
			for {
				p.skipSpace(false)
				if p.pos >= len(p.src) || p.src[p.pos] == ';' || p.src[p.pos] == '\n' {
					break
				}
				if isMeta(p.src[p.pos]) {
					p.unexpected()
				}
				c.items = append(c.items, p.readWord())
			}
		}
		p.skipSpace(false)
		if p.pos < len(p.src) && p.src[p.pos] == ';' {
			p.pos++
		}
		p.expectWord("do")
		c.body = p.parseList(map[string]bool{"done": true})
		p.expectWord("done")
		c.redirs = p.parseRedirs()
		return c
	case "{":
		p.pos++
		c := &groupCmd{body: p.parseList(map[string]bool{"}": true})}
		p.expectWord("}")
		c.redirs = p.parseRedirs()
		return c
	case "then", "elif", "else", "fi", "do", "done", "in", "esac", "}":
		p.fail("unexpected %q", p.peekReserved())
	case "case":
		return p.parseCase()
	}
	if fd := p.tryFuncDef(); fd != nil {
		return fd
	}
	if p.src[p.pos] == '(' {
		p.pos++
		c := &groupCmd{subshell: true, body: p.parseList(nil)}
		p.skipSpace(true)
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			if p.pos >= len(p.src) {
				p.fail("unexpected end of file (expecting \")\")")
			}
			p.unexpected()
		}
		p.pos++
		c.redirs = p.parseRedirs()
		return c
	}
	return p.parseSimple()
}

func (p *parser) parseRedirs() []*redir {
	var rs []*redir
	for {
		p.skipSpace(false)
		r := p.tryRedir()
		if r == nil {
			return rs
		}
		rs = append(rs, r)
	}
}

func (p *parser) parseSimple() *simpleCmd {
	c := &simpleCmd{line: p.lineAt(p.pos), args: make([]*word, 0, 4)}
	for {
		p.skipSpace(false)
		if p.pos >= len(p.src) {
			break
		}
		if r := p.tryRedir(); r != nil {
			c.redirs = append(c.redirs, r)
			continue
		}
		if isMeta(p.src[p.pos]) {
			break
		}
		start := p.pos
		w := p.readWord()
		if len(c.args) == 0 {
			if name, val, ok := p.splitAssign(start, w); ok {
				c.assigns = append(c.assigns, assign{name, val})
				continue
			}
		}
		c.args = append(c.args, w)
	}
	if len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0 {
		p.unexpected()
	}
	return c
}

// splitAssign recognises NAME=value (the name unquoted in the source).
func (p *parser) splitAssign(start int, w *word) (string, *word, bool) {
	src := p.src[start:p.pos]
	eq := strings.IndexByte(src, '=')
	if eq <= 0 || !validName(src[:eq]) {
		return "", nil, false
	}
	if len(w.parts) == 0 || w.parts[0].kind != pLit || w.parts[0].quoted || !strings.HasPrefix(w.parts[0].text, src[:eq+1]) {
		return "", nil, false
	}
	val := &word{parts: append([]part(nil), w.parts...)}
	val.parts[0].text = val.parts[0].text[eq+1:]
	return src[:eq], val, true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (p *parser) tryRedir() *redir {
	s := p.pos
	fd := -1
	for s < len(p.src) && p.src[s] >= '0' && p.src[s] <= '9' && s-p.pos < 2 {
		s++
	}
	if s > p.pos {
		if s >= len(p.src) || (p.src[s] != '<' && p.src[s] != '>') {
			return nil
		}
		fd = int(p.src[p.pos] - '0')
		if s-p.pos == 2 {
			fd = fd*10 + int(p.src[p.pos+1]-'0')
		}
	}
	if s >= len(p.src) || (p.src[s] != '<' && p.src[s] != '>') {
		return nil
	}
	var op string
	for _, o := range []string{">>", "<<-", "<<", ">&", "<&", "<>", ">|", ">", "<"} {
		if strings.HasPrefix(p.src[s:], o) {
			op = o
			break
		}
	}
	p.pos = s + len(op)
	if op == ">|" {
		op = ">"
	}
	if fd < 0 {
		fd = 1
		if op[0] == '<' {
			fd = 0
		}
	}
	p.skipSpace(false)
	if p.pos >= len(p.src) || isMeta(p.src[p.pos]) {
		if p.pos >= len(p.src) {
			p.fail("unexpected end of file")
		}
		p.unexpected()
	}
	r := &redir{fd: fd, op: op, target: p.readWord()}
	if op == "<<" || op == "<<-" {
		r.strip = op == "<<-"
		r.op = "<<"
		for _, pt := range r.target.parts {
			if pt.quoted {
				r.quoted = true
			}
		}
		p.pending = append(p.pending, r)
	}
	return r
}

// readHeredocs reads the bodies of pending here-documents; pos is at the
// start of a line.
func (p *parser) readHeredocs() {
	for _, r := range p.pending {
		var delim strings.Builder
		for _, pt := range r.target.parts {
			delim.WriteString(pt.text)
		}
		var body strings.Builder
		ended := false
		for p.pos < len(p.src) {
			e := strings.IndexByte(p.src[p.pos:], '\n')
			var line string
			if e < 0 {
				line = p.src[p.pos:]
				p.pos = len(p.src)
			} else {
				line = p.src[p.pos : p.pos+e]
				p.pos += e + 1
			}
			if r.strip {
				line = strings.TrimLeft(line, "\t")
			}
			if strings.TrimSuffix(line, "\r") == delim.String() {
				ended = true
				break
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		r.body = body.String()
		p.open = p.open || !ended
	}
	p.pending = nil
}

// heredocOpen reports whether src ends inside a here-document: one whose
// delimiter line has not come yet. An interactive shell then reads more
// lines (prompting with PS2) before it runs anything.
func heredocOpen(src string, maxDepth int) (open bool) {
	if !strings.Contains(src, "<<") {
		return false
	}
	p := &parser{src: src, maxDepth: maxDepth}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*syntaxError); !ok {
				panic(r)
			}
			open = false // a syntax error is reported when the line runs
		}
	}()
	p.parseList(nil)
	return p.open || len(p.pending) > 0
}

// tryFuncDef parses NAME() COMMAND. It is tried before every simple
// command, so it looks at bytes directly rather than through a regexp.
func (p *parser) tryFuncDef() *funcDef {
	src := p.src[p.pos:]
	if len(src) == 0 || !isAlpha(src[0]) && src[0] != '_' {
		return nil
	}
	i := 1
	for i < len(src) && (isAlnum(src[i]) || src[i] == '_') {
		i++
	}
	name := src[:i]
	blanks := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
	}
	blanks()
	if i >= len(src) || src[i] != '(' {
		return nil
	}
	i++
	blanks()
	if i >= len(src) || src[i] != ')' {
		return nil
	}
	m := []string{src[:i+1], name}
	p.pos += len(m[0])
	p.skipSpace(true)
	if p.pos >= len(p.src) {
		p.fail("unexpected end of file")
	}
	return &funcDef{name: m[1], body: p.parseCommand()}
}

func (p *parser) parseCase() *caseCmd {
	p.pos += 4
	p.skipSpace(false)
	if p.pos >= len(p.src) || isMeta(p.src[p.pos]) {
		p.unexpected()
	}
	c := &caseCmd{subject: p.readWord()}
	p.skipSpace(true)
	p.expectWord("in")
	for {
		p.skipSpace(true)
		if p.peekReserved() == "esac" {
			p.pos += 4
			c.redirs = p.parseRedirs()
			return c
		}
		if p.pos >= len(p.src) {
			p.fail("unexpected end of file (expecting \"esac\")")
		}
		if p.src[p.pos] == '(' {
			p.pos++
		}
		var it caseItem
		for {
			p.skipSpace(false)
			if p.pos >= len(p.src) || isMeta(p.src[p.pos]) {
				p.unexpected()
			}
			it.patterns = append(it.patterns, p.readWord())
			p.skipSpace(false)
			if p.pos < len(p.src) && p.src[p.pos] == '|' {
				p.pos++
				continue
			}
			break
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			if p.pos >= len(p.src) {
				p.fail("unexpected end of file (expecting \")\")")
			}
			p.unexpected()
		}
		p.pos++
		it.body = p.parseList(map[string]bool{"esac": true})
		c.items = append(c.items, it)
		p.skipSpace(true)
		if p.startsWith(";;") {
			p.pos += 2
		}
	}
}
