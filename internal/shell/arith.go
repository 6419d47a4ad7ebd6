package shell

import (
	"errors"
	"strconv"
	"strings"
)

var (
	errArith  = errors.New("arithmetic syntax error")
	errDivide = errors.New("divide by zero")
)

// arith evaluates a $((...)) expression: integers, variables, unary and
// binary C operators (no assignment).
func (s *Shell) arith(src string) (int64, error) {
	a := &arithParser{s: s, src: src}
	v := a.expr(0)
	a.space()
	if a.err == nil && a.pos < len(a.src) {
		a.err = errArith
	}
	return v, a.err
}

type arithParser struct {
	s     *Shell
	src   string
	pos   int
	err   error
	depth int
}

var binPrec = []struct {
	op   string
	prec int
}{
	{"||", 1}, {"&&", 2}, {"==", 6}, {"!=", 6}, {"<=", 7}, {">=", 7}, {"<<", 8}, {">>", 8},
	{"|", 3}, {"^", 4}, {"&", 5}, {"<", 7}, {">", 7}, {"+", 9}, {"-", 9}, {"*", 10}, {"/", 10}, {"%", 10},
}

func (a *arithParser) space() {
	for a.pos < len(a.src) && strings.IndexByte(" \t\n", a.src[a.pos]) >= 0 {
		a.pos++
	}
}

func (a *arithParser) expr(min int) int64 {
	a.depth++
	defer func() { a.depth-- }()
	if a.depth > 200 {
		a.err = errArith
		return 0
	}
	l := a.unary()
	for a.err == nil {
		a.space()
		found := false
		for _, b := range binPrec {
			if b.prec >= min && strings.HasPrefix(a.src[a.pos:], b.op) {
				a.pos += len(b.op)
				r := a.expr(b.prec + 1)
				l = a.apply(b.op, l, r)
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return l
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (a *arithParser) apply(op string, l, r int64) int64 {
	switch op {
	case "||":
		return b2i(l != 0 || r != 0)
	case "&&":
		return b2i(l != 0 && r != 0)
	case "==":
		return b2i(l == r)
	case "!=":
		return b2i(l != r)
	case "<=":
		return b2i(l <= r)
	case ">=":
		return b2i(l >= r)
	case "<":
		return b2i(l < r)
	case ">":
		return b2i(l > r)
	case "<<":
		return l << (uint64(r) & 63)
	case ">>":
		return l >> (uint64(r) & 63)
	case "|":
		return l | r
	case "^":
		return l ^ r
	case "&":
		return l & r
	case "+":
		return l + r
	case "-":
		return l - r
	case "*":
		return l * r
	case "/", "%":
		if r == 0 {
			if a.err == nil {
				a.err = errDivide
			}
			return 0
		}
		if r == -1 {
			if op == "/" {
				return -l
			}
			return 0
		}
		if op == "/" {
			return l / r
		}
		return l % r
	}
	return 0
}

func (a *arithParser) unary() int64 {
	a.space()
	if a.pos >= len(a.src) {
		a.err = errArith
		return 0
	}
	switch c := a.src[a.pos]; {
	case c == '-':
		a.pos++
		return -a.unary()
	case c == '+':
		a.pos++
		return a.unary()
	case c == '!':
		a.pos++
		return b2i(a.unary() == 0)
	case c == '~':
		a.pos++
		return ^a.unary()
	case c == '(':
		a.pos++
		v := a.expr(0)
		a.space()
		if a.pos >= len(a.src) || a.src[a.pos] != ')' {
			a.err = errArith
			return 0
		}
		a.pos++
		return v
	case c >= '0' && c <= '9':
		e := a.pos
		for e < len(a.src) && (isAlnum(a.src[e])) {
			e++
		}
		v, err := strconv.ParseInt(a.src[a.pos:e], 0, 64)
		if err != nil {
			a.err = errArith
		}
		a.pos = e
		return v
	case c == '_' || isAlpha(c) || c == '$':
		if c == '$' {
			a.pos++
		}
		e := a.pos
		for e < len(a.src) && (a.src[e] == '_' || isAlnum(a.src[e])) {
			e++
		}
		name := a.src[a.pos:e]
		a.pos = e
		v := strings.TrimSpace(a.s.vars[name])
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			a.err = errArith
		}
		return n
	}
	a.err = errArith
	return 0
}

// cmdTest is test / [ / [[.
func cmdTest(s *Shell, c *call) int {
	args := c.args[1:]
	if c.args[0] == "[" || c.args[0] == "[[" {
		closer := "]"
		if c.args[0] == "[[" {
			closer = "]]"
		}
		if len(args) == 0 || args[len(args)-1] != closer {
			bbErr(c, true, "[: missing %s", closer)
			return 2
		}
		args = args[:len(args)-1]
	}
	t := &tester{s: s, c: c, args: args}
	if len(args) == 0 {
		return 1
	}
	v := t.or()
	if t.err != "" {
		bbErr(c, true, "%s: %s", c.args[0], t.err)
		return 2
	}
	if t.pos < len(args) {
		bbErr(c, true, "%s: %s: unknown operand", c.args[0], args[t.pos])
		return 2
	}
	if v {
		return 0
	}
	return 1
}

type tester struct {
	s    *Shell
	c    *call
	args []string
	pos  int
	err  string
}

func (t *tester) next() (string, bool) {
	if t.pos >= len(t.args) {
		return "", false
	}
	t.pos++
	return t.args[t.pos-1], true
}

func (t *tester) or() bool {
	v := t.and()
	for t.pos < len(t.args) && t.args[t.pos] == "-o" {
		t.pos++
		r := t.and()
		v = v || r
	}
	return v
}

func (t *tester) and() bool {
	v := t.prim()
	for t.pos < len(t.args) && t.args[t.pos] == "-a" {
		t.pos++
		r := t.prim()
		v = v && r
	}
	return v
}

func (t *tester) prim() bool {
	a, ok := t.next()
	if !ok {
		t.err = "argument expected"
		return false
	}
	if a == "!" {
		return !t.prim()
	}
	// binary operators
	if t.pos < len(t.args) {
		op := t.args[t.pos]
		switch op {
		case "=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">":
			t.pos++
			b, ok := t.next()
			if !ok {
				t.err = "argument expected"
				return false
			}
			switch op {
			case "=", "==":
				return a == b
			case "!=":
				return a != b
			case "<":
				return a < b
			case ">":
				return a > b
			}
			x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
			y, err2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
			if err1 != nil {
				t.err = "invalid number '" + a + "'"
				return false
			}
			if err2 != nil {
				t.err = "invalid number '" + b + "'"
				return false
			}
			switch op {
			case "-eq":
				return x == y
			case "-ne":
				return x != y
			case "-lt":
				return x < y
			case "-le":
				return x <= y
			case "-gt":
				return x > y
			}
			return x >= y
		}
	}
	if len(a) == 2 && a[0] == '-' && t.pos < len(t.args) {
		switch a[1] {
		case 'n':
			v, _ := t.next()
			return v != ""
		case 'z':
			v, _ := t.next()
			return v == ""
		case 'e', 'f', 'd', 'x', 'r', 'w', 's', 'L', 'h', 'c', 'b', 'p', 'S':
			name, _ := t.next()
			follow := a[1] != 'L' && a[1] != 'h'
			_, n, err := t.s.fs.lookup(t.s.cwd, name, follow)
			if err != nil {
				return false
			}
			switch a[1] {
			case 'f':
				return !n.isDir() && !n.isLink() && n.dev == devNone
			case 'd':
				return n.isDir()
			case 'x':
				return n.mode&0o111 != 0
			case 's':
				return n.size() > 0 || n.gen != nil
			case 'L', 'h':
				return n.isLink()
			case 'c':
				return n.dev != devNone
			case 'b', 'p', 'S':
				return false
			case 'w':
				return !n.ro
			}
			return true
		}
	}
	return a != ""
}
