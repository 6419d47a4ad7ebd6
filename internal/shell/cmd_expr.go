package shell

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// expr as BusyBox implements it: integer arithmetic, comparisons, string
// match (`:` anchored at the start, \( \) returns the group), and the
// match/substr/index/length keywords.

type exprVal struct {
	s     string
	n     int64
	isNum bool
}

func (v exprVal) String() string {
	if v.isNum {
		return strconv.FormatInt(v.n, 10)
	}
	return v.s
}

func (v exprVal) null() bool {
	if v.isNum {
		return v.n == 0
	}
	return v.s == "" || v.s == "0"
}

func (v exprVal) toNum() (int64, bool) {
	if v.isNum {
		return v.n, true
	}
	n, err := strconv.ParseInt(v.s, 10, 64)
	return n, err == nil
}

var (
	errExprSyntax = errors.New("syntax error")
	errExprNonNum = errors.New("non-numeric argument")
	errExprDiv    = errors.New("division by zero")
)

type exprParser struct {
	args []string
}

func cmdExpr(s *Shell, c *call) int {
	if len(c.args) < 2 {
		c.errf("too few arguments")
		return 2
	}
	p := &exprParser{args: c.args[1:]}
	v, err := p.or()
	if err == nil && len(p.args) > 0 {
		err = errExprSyntax
	}
	if err != nil {
		c.errf("%v", err)
		return 2
	}
	fmt.Fprintln(c.out, v)
	if v.null() {
		return 1
	}
	return 0
}

func (p *exprParser) next(ops ...string) string {
	if len(p.args) == 0 {
		return ""
	}
	for _, o := range ops {
		if p.args[0] == o {
			p.args = p.args[1:]
			return o
		}
	}
	return ""
}

func (p *exprParser) or() (exprVal, error) {
	l, err := p.and()
	for err == nil && p.next("|") != "" {
		var r exprVal
		if r, err = p.and(); err != nil {
			break
		}
		if l.null() {
			l = r
			if r.null() {
				l = exprVal{isNum: true}
			}
		}
	}
	return l, err
}

func (p *exprParser) and() (exprVal, error) {
	l, err := p.compare()
	for err == nil && p.next("&") != "" {
		var r exprVal
		if r, err = p.compare(); err != nil {
			break
		}
		if l.null() || r.null() {
			l = exprVal{isNum: true}
		}
	}
	return l, err
}

func (p *exprParser) compare() (exprVal, error) {
	l, err := p.add()
	for err == nil {
		op := p.next("<", "<=", "=", "==", "!=", ">=", ">")
		if op == "" {
			break
		}
		var r exprVal
		if r, err = p.add(); err != nil {
			break
		}
		var c int
		x, okx := l.toNum()
		y, oky := r.toNum()
		if okx && oky {
			c = map[bool]int{true: -1, false: 0}[x < y] + map[bool]int{true: 1, false: 0}[x > y]
		} else {
			c = strings.Compare(l.String(), r.String())
		}
		t := map[string]bool{"<": c < 0, "<=": c <= 0, "=": c == 0, "==": c == 0, "!=": c != 0, ">=": c >= 0, ">": c > 0}[op]
		l = exprVal{isNum: true, n: map[bool]int64{true: 1, false: 0}[t]}
	}
	return l, err
}

func (p *exprParser) arith(sub func() (exprVal, error), ops ...string) (exprVal, error) {
	l, err := sub()
	for err == nil {
		op := p.next(ops...)
		if op == "" {
			break
		}
		var r exprVal
		if r, err = sub(); err != nil {
			break
		}
		x, okx := l.toNum()
		y, oky := r.toNum()
		if !okx || !oky {
			return l, errExprNonNum
		}
		var n int64
		switch op {
		case "+":
			n = x + y
		case "-":
			n = x - y
		case "*":
			n = x * y
		case "/", "%":
			if y == 0 {
				return l, errExprDiv
			}
			if op == "/" {
				n = x / y
			} else {
				n = x % y
			}
		}
		l = exprVal{isNum: true, n: n}
	}
	return l, err
}

func (p *exprParser) add() (exprVal, error) { return p.arith(p.mul, "+", "-") }
func (p *exprParser) mul() (exprVal, error) { return p.arith(p.match, "*", "/", "%") }

func (p *exprParser) match() (exprVal, error) {
	l, err := p.primary()
	for err == nil && p.next(":") != "" {
		var r exprVal
		if r, err = p.primary(); err != nil {
			break
		}
		l, err = exprMatch(l.String(), r.String())
	}
	return l, err
}

func exprMatch(s, pat string) (exprVal, error) {
	re, err := regexp.Compile("^(?:" + breToRE(pat) + ")")
	if err != nil {
		return exprVal{}, errExprSyntax
	}
	m := re.FindStringSubmatch(s)
	if re.NumSubexp() > 0 {
		if m == nil {
			return exprVal{}, nil
		}
		return exprVal{s: m[1]}, nil
	}
	if m == nil {
		return exprVal{isNum: true}, nil
	}
	return exprVal{isNum: true, n: int64(len(m[0]))}, nil
}

func (p *exprParser) primary() (exprVal, error) {
	if len(p.args) == 0 {
		return exprVal{}, errExprSyntax
	}
	a := p.args[0]
	p.args = p.args[1:]
	operand := func() (string, error) {
		if len(p.args) == 0 {
			return "", errExprSyntax
		}
		v := p.args[0]
		p.args = p.args[1:]
		return v, nil
	}
	switch a {
	case "(":
		v, err := p.or()
		if err != nil {
			return v, err
		}
		if p.next(")") == "" {
			return v, errExprSyntax
		}
		return v, nil
	case "length":
		s, err := operand()
		return exprVal{isNum: true, n: int64(len(s))}, err
	case "match":
		s, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		pat, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		return exprMatch(s, pat)
	case "index":
		s, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		chars, err := operand()
		return exprVal{isNum: true, n: int64(strings.IndexAny(s, chars) + 1)}, err
	case "substr":
		s, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		ps, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		ls, err := operand()
		if err != nil {
			return exprVal{}, err
		}
		pos, err1 := strconv.Atoi(ps)
		n, err2 := strconv.Atoi(ls)
		if err1 != nil || err2 != nil {
			return exprVal{}, errExprNonNum
		}
		if pos < 1 || pos > len(s) || n <= 0 {
			return exprVal{}, nil
		}
		return exprVal{s: s[pos-1 : min(len(s), pos-1+n)]}, nil
	case ")":
		return exprVal{}, errExprSyntax
	}
	return exprVal{s: a}, nil
}
