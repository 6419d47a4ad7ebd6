package shell

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// awkCell is an awk value: a number, a string, or a "strnum" (input data
// that looks numeric, compared as a number).
type awkCell struct {
	s      string
	n      float64
	isNum  bool // a number (s unset)
	strnum bool // a string from input that looks numeric
}

func awkNum(n float64) awkCell  { return awkCell{n: n, isNum: true} }
func awkStr(s string) awkCell   { return awkCell{s: s} }
func awkInput(s string) awkCell { return awkCell{s: s, strnum: looksNumeric(s)} }

func looksNumeric(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	_, err := strconv.ParseFloat(t, 64)
	return err == nil && !strings.ContainsAny(t, "xXnN") // no hex, inf, nan
}

// strtod is C's leading-number conversion: "12abc" is 12, "abc" is 0.
func strtod(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	end, seenDigit, seenE, seenDot := 0, false, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			end = i + 1
		case (c == '+' || c == '-') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		case c == '.' && !seenDot && !seenE:
			seenDot = true
		case (c == 'e' || c == 'E') && seenDigit && !seenE:
			seenE = true
		default:
			i = len(s)
		}
	}
	n, _ := strconv.ParseFloat(s[:end], 64)
	return n
}

func (v awkCell) num() float64 {
	if v.isNum {
		return v.n
	}
	return strtod(v.s)
}

func (v awkCell) str() string {
	if v.isNum {
		return awkFmtNum(v.n, "%.6g")
	}
	return v.s
}

func (v awkCell) bool() bool {
	if v.isNum {
		return v.n != 0
	}
	if v.strnum {
		return v.num() != 0
	}
	return v.s != ""
}

func awkFmtNum(n float64, ofmt string) string {
	if n == math.Trunc(n) && math.Abs(n) < 1e16 {
		return strconv.FormatInt(int64(n), 10)
	}
	return fmt.Sprintf(ofmt, n)
}

type awkRun struct {
	s       *Shell
	c       *call
	vars    map[string]awkCell
	arrays  map[string]map[string]awkCell
	fields  []string // fields[0] is $0
	steps   int
	exiting bool
	code    int
	out     strings.Builder
}

var (
	errAwkNext     = errors.New("next")
	errAwkExit     = errors.New("exit")
	errAwkBreak    = errors.New("break")
	errAwkContinue = errors.New("continue")
	errAwkLimit    = errors.New("limit")
)

func cmdAwk(s *Shell, c *call) int {
	args := c.args[1:]
	r := &awkRun{s: s, c: c, vars: map[string]awkCell{
		"FS": awkStr(" "), "OFS": awkStr(" "), "ORS": awkStr("\n"), "RS": awkStr("\n"),
		"NR": awkNum(0), "NF": awkNum(0), "FNR": awkNum(0), "SUBSEP": awkStr("\x1c"), "FILENAME": awkStr(""),
	}, arrays: map[string]map[string]awkCell{}}
	var prog string
	haveProg := false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		a := args[0]
		args = args[1:]
		if a == "--" {
			break
		}
		opt, val := a[1], a[2:]
		if opt != 'F' && opt != 'v' && opt != 'f' {
			c.errf("unrecognized option '%s'", a)
			return s.usage(c, "awk")
		}
		if val == "" {
			if len(args) == 0 {
				c.errf("option requires an argument -- '%c'", opt)
				return s.usage(c, "awk")
			}
			val, args = args[0], args[1:]
		}
		switch opt {
		case 'F':
			if val == "t" {
				val = "\t"
			}
			r.vars["FS"] = awkStr(awkUnescape(val))
		case 'v':
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				c.errf("cmd. line:1: Unexpected token")
				return 1
			}
			r.vars[k] = awkInput(awkUnescape(v))
		case 'f':
			_, n, err := s.fs.lookup(s.cwd, val, true)
			if err != nil {
				c.errf("can't open '%s': %s", val, err)
				return 1
			}
			prog, haveProg = string(s.readAll(n)), true
		}
	}
	if !haveProg {
		if len(args) == 0 {
			return s.usage(c, "awk")
		}
		prog, args = args[0], args[1:]
	}
	rules, err := parseAwk(prog)
	if err != nil {
		c.errf("cmd. line:1: %v", err)
		return 1
	}
	st := r.run(rules, args)
	c.out.Write([]byte(r.out.String()))
	return st
}

func awkUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for j := 0; j < len(s); j++ {
		if s[j] == '\\' && j+1 < len(s) {
			j++
			b.WriteString(awkEscape(s, &j))
			continue
		}
		b.WriteByte(s[j])
	}
	return b.String()
}

func (r *awkRun) run(rules []awkRule, files []string) (st int) {
	defer func() {
		if x := recover(); x != nil {
			if x == errAwkLimit {
				st = 2
				return
			}
			if x == errAwkDivZero {
				r.c.errf("cmd. line:1: %v", errAwkDivZero)
				st = 2
				return
			}
			panic(x)
		}
	}()
	var operands []string
	for _, f := range files {
		if k, v, ok := strings.Cut(f, "="); ok && k != "" && !strings.ContainsAny(k, "/.") {
			operands = append(operands, "\x00"+k+"\x00"+v)
			continue
		}
		operands = append(operands, f)
	}
	for _, rl := range rules {
		if rl.begin && !r.exiting {
			r.exec(rl.action)
		}
	}
	mainRules := false
	for _, rl := range rules {
		mainRules = mainRules || !rl.begin
	}
	if mainRules && !r.exiting {
		hasFile := false
		for _, f := range operands {
			if !strings.HasPrefix(f, "\x00") {
				hasFile = true
			}
		}
		if !hasFile {
			operands = append(operands, "-")
		}
		for _, f := range operands {
			if r.exiting {
				break
			}
			if strings.HasPrefix(f, "\x00") {
				kv := strings.SplitN(f[1:], "\x00", 2)
				r.vars[kv[0]] = awkInput(awkUnescape(kv[1]))
				continue
			}
			_, data, e := r.s.inputs(r.c, []string{f}, "")
			if e != 0 {
				st = 2
				continue
			}
			r.vars["FILENAME"] = awkStr(map[bool]string{true: "", false: f}[f == "-"])
			r.vars["FNR"] = awkNum(0)
			for _, line := range splitLines(data[0]) {
				if r.exiting {
					break
				}
				r.vars["NR"] = awkNum(r.vars["NR"].num() + 1)
				r.vars["FNR"] = awkNum(r.vars["FNR"].num() + 1)
				r.setRecord(line)
				r.record(rules)
			}
		}
	}
	r.exiting = false
	for _, rl := range rules {
		if rl.end && !r.exiting {
			r.exec(rl.action)
		}
	}
	if st == 0 {
		st = r.code
	}
	return st
}

func (r *awkRun) record(rules []awkRule) {
	for _, rl := range rules {
		if rl.begin || rl.end {
			continue
		}
		if rl.pattern != nil && !r.eval(rl.pattern).boolMatch(r) {
			continue
		}
		if rl.action == nil {
			r.write(r.fields[0] + r.vars["ORS"].str())
			continue
		}
		if err := r.exec(rl.action); err == errAwkNext {
			return
		} else if err == errAwkExit {
			return
		}
	}
}

// boolMatch is a pattern's truth: a bare regex matches $0.
func (v awkCell) boolMatch(*awkRun) bool { return v.bool() }

func (r *awkRun) write(s string) {
	if r.out.Len()+len(s) > int(r.s.lim.MaxOutputBytes) {
		panic(errAwkLimit)
	}
	r.out.WriteString(s)
}

func (r *awkRun) tick() {
	r.steps++
	if r.steps > r.s.lim.MaxLoop*10 {
		panic(errAwkLimit)
	}
}

func (r *awkRun) setRecord(line string) {
	r.fields = append(r.fields[:0], line)
	r.fields = append(r.fields, r.split(line, r.vars["FS"].str())...)
	r.vars["NF"] = awkNum(float64(len(r.fields) - 1))
}

// split divides s by an awk field separator: " " is runs of blanks,
// one other character is literal, longer is a regular expression.
func (r *awkRun) split(s, fs string) []string {
	switch {
	case s == "":
		return nil
	case fs == " ":
		return strings.Fields(s)
	case len(fs) == 1 && fs != "\\":
		return strings.Split(s, fs)
	}
	re, err := regexp.Compile(eregToRE(fs))
	if err != nil {
		return []string{s}
	}
	return re.Split(s, -1)
}

func (r *awkRun) rebuild() {
	ofs := r.vars["OFS"].str()
	r.fields[0] = strings.Join(r.fields[1:], ofs)
}

func (r *awkRun) getField(i int) awkCell {
	if i < 0 {
		return awkStr("")
	}
	if r.fields == nil {
		r.fields = []string{""}
	}
	if i >= len(r.fields) {
		return awkStr("")
	}
	return awkInput(r.fields[i])
}

func (r *awkRun) setField(i int, v string) {
	if i < 0 || i > 1<<16 {
		panic(errAwkLimit)
	}
	if r.fields == nil {
		r.fields = []string{""}
	}
	if i == 0 {
		r.setRecord(v)
		return
	}
	for len(r.fields) <= i {
		r.fields = append(r.fields, "")
	}
	r.fields[i] = v
	r.vars["NF"] = awkNum(float64(len(r.fields) - 1))
	r.rebuild()
}

func (r *awkRun) exec(l []*awkStmt) error {
	for _, st := range l {
		if err := r.stmt(st); err != nil {
			return err
		}
	}
	return nil
}

func (r *awkRun) stmt(st *awkStmt) error {
	r.tick()
	switch st.kind {
	case "print":
		if len(st.exprs) == 0 {
			r.write(r.getField(0).str() + r.vars["ORS"].str())
			return nil
		}
		parts := make([]string, len(st.exprs))
		for i, e := range st.exprs {
			v := r.eval(e)
			if v.isNum {
				parts[i] = awkFmtNum(v.n, r.vars["OFMT"].strOr("%.6g"))
			} else {
				parts[i] = v.s
			}
		}
		r.write(strings.Join(parts, r.vars["OFS"].str()) + r.vars["ORS"].str())
	case "printf":
		vals := make([]awkCell, len(st.exprs))
		for i, e := range st.exprs {
			vals[i] = r.eval(e)
		}
		r.write(awkSprintf(vals[0].str(), vals[1:]))
	case "expr":
		r.eval(st.exprs[0])
	case "block":
		return r.exec(st.body)
	case "if":
		if r.eval(st.exprs[0]).bool() {
			return r.exec(st.body)
		}
		return r.exec(st.els)
	case "while", "do", "for":
		if st.init != nil {
			r.stmt(st.init)
		}
		first := st.kind == "do"
		for first || len(st.exprs) == 0 || r.eval(st.exprs[0]).bool() {
			first = false
			r.tick()
			err := r.exec(st.body)
			if err == errAwkBreak {
				break
			}
			if err != nil && err != errAwkContinue {
				return err
			}
			if st.step != nil {
				r.stmt(st.step)
			}
		}
	case "forin":
		keys := make([]string, 0, len(r.arrays[st.arr]))
		for k := range r.arrays[st.arr] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.vars[st.varNam] = awkInput(k)
			err := r.exec(st.body)
			if err == errAwkBreak {
				break
			}
			if err != nil && err != errAwkContinue {
				return err
			}
		}
	case "delete":
		if len(st.exprs) == 0 {
			delete(r.arrays, st.arr)
		} else if a := r.arrays[st.arr]; a != nil {
			delete(a, r.subscript(st.exprs))
		}
	case "next":
		return errAwkNext
	case "exit":
		if len(st.exprs) > 0 {
			r.code = int(r.eval(st.exprs[0]).num())
		}
		r.exiting = true
		return errAwkExit
	case "break":
		return errAwkBreak
	case "continue":
		return errAwkContinue
	}
	return nil
}

func (v awkCell) strOr(def string) string {
	if !v.isNum && v.s == "" {
		return def
	}
	return v.str()
}

func (r *awkRun) subscript(l []*awkExpr) string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = r.eval(e).str()
	}
	return strings.Join(parts, r.vars["SUBSEP"].str())
}

func (r *awkRun) array(name string) map[string]awkCell {
	a := r.arrays[name]
	if a == nil {
		a = map[string]awkCell{}
		r.arrays[name] = a
	}
	return a
}

func (r *awkRun) get(e *awkExpr) awkCell {
	switch e.op {
	case "var":
		return r.vars[e.str]
	case "field":
		return r.getField(int(r.eval(e.args[0]).num()))
	case "idx":
		return r.array(e.str)[r.subscript(e.args)]
	}
	return r.eval(e)
}

func (r *awkRun) set(e *awkExpr, v awkCell) {
	switch e.op {
	case "var":
		r.vars[e.str] = v
		if e.str == "NF" {
			n := int(v.num())
			if n < 0 || n > 1<<16 {
				panic(errAwkLimit)
			}
			for len(r.fields)-1 < n {
				r.fields = append(r.fields, "")
			}
			r.fields = r.fields[:n+1]
			r.rebuild()
		}
	case "field":
		r.setField(int(r.eval(e.args[0]).num()), v.str())
	case "idx":
		a := r.array(e.str)
		if len(a) > 100000 {
			panic(errAwkLimit)
		}
		a[r.subscript(e.args)] = v
	}
}

func (r *awkRun) regex(e *awkExpr) *regexp.Regexp {
	if e.op == "re" {
		return e.re
	}
	re, err := regexp.Compile(eregToRE(r.eval(e).str()))
	if err != nil {
		return regexp.MustCompile(regexp.QuoteMeta(r.eval(e).str()))
	}
	return re
}

func awkCompare(a, b awkCell) int {
	if (a.isNum || a.strnum) && (b.isNum || b.strnum) {
		x, y := a.num(), b.num()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a.str(), b.str())
}

func awkBool(b bool) awkCell {
	if b {
		return awkNum(1)
	}
	return awkNum(0)
}

func (r *awkRun) eval(e *awkExpr) awkCell {
	r.tick()
	a := e.args
	switch e.op {
	case "num":
		return awkNum(e.num)
	case "str":
		return awkStr(e.str)
	case "re":
		return awkBool(e.re.MatchString(r.getField(0).str()))
	case "var", "field", "idx":
		return r.get(e)
	case "group":
		return r.eval(a[0])
	case "in":
		_, ok := r.array(e.str)[r.subscript(a)]
		return awkBool(ok)
	case "cond":
		if r.eval(a[0]).bool() {
			return r.eval(a[1])
		}
		return r.eval(a[2])
	case "assign":
		v := r.eval(a[1])
		if e.str != "=" {
			v = awkNum(awkArith(e.str[:1], r.get(a[0]).num(), v.num()))
		}
		r.set(a[0], v)
		return v
	case "incr", "decr", "postincr", "postdecr":
		old := r.get(a[0]).num()
		d := 1.0
		if e.op == "decr" || e.op == "postdecr" {
			d = -1
		}
		r.set(a[0], awkNum(old+d))
		if e.op == "incr" || e.op == "decr" {
			return awkNum(old + d)
		}
		return awkNum(old)
	case "neg":
		return awkNum(-r.eval(a[0]).num())
	case "plus":
		return awkNum(r.eval(a[0]).num())
	case "not":
		return awkBool(!r.eval(a[0]).bool())
	case "&&":
		return awkBool(r.eval(a[0]).bool() && r.eval(a[1]).bool())
	case "||":
		return awkBool(r.eval(a[0]).bool() || r.eval(a[1]).bool())
	case "~", "!~":
		m := r.regex(a[1]).MatchString(r.eval(a[0]).str())
		return awkBool(m == (e.op == "~"))
	case "<", "<=", "!=", "==", ">", ">=":
		c := awkCompare(r.eval(a[0]), r.eval(a[1]))
		return awkBool(map[string]bool{"<": c < 0, "<=": c <= 0, "!=": c != 0, "==": c == 0, ">": c > 0, ">=": c >= 0}[e.op])
	case "concat":
		return awkStr(r.eval(a[0]).str() + r.eval(a[1]).str())
	case "+", "-", "*", "/", "%", "^":
		return awkNum(awkArith(e.op, r.eval(a[0]).num(), r.eval(a[1]).num()))
	case "call":
		return r.call(e)
	}
	panic(errAwkSyntax)
}

func awkArith(op string, x, y float64) float64 {
	switch op {
	case "+":
		return x + y
	case "-":
		return x - y
	case "*":
		return x * y
	case "/":
		if y == 0 {
			panic(errAwkDivZero)
		}
		return x / y
	case "%":
		if y == 0 {
			panic(errAwkDivZero)
		}
		return math.Mod(x, y)
	case "^":
		return math.Pow(x, y)
	}
	return 0
}

var errAwkDivZero = errors.New("Division by zero")

func (r *awkRun) call(e *awkExpr) awkCell {
	a := e.args
	arg := func(i int) awkCell {
		if i < len(a) {
			return r.eval(a[i])
		}
		return awkStr("")
	}
	switch e.str {
	case "length":
		if len(a) == 0 {
			return awkNum(float64(len(r.getField(0).str())))
		}
		if a[0].op == "var" && r.arrays[a[0].str] != nil {
			return awkNum(float64(len(r.arrays[a[0].str])))
		}
		return awkNum(float64(len(arg(0).str())))
	case "substr":
		str := arg(0).str()
		start := math.Round(arg(1).num())
		end := math.Inf(1)
		if len(a) > 2 {
			end = start + math.Round(arg(2).num())
		}
		if start < 1 {
			start = 1
		}
		if end > float64(len(str))+1 {
			end = float64(len(str)) + 1
		}
		if end <= start {
			return awkStr("")
		}
		return awkStr(str[int(start)-1 : int(end)-1])
	case "index":
		return awkNum(float64(strings.Index(arg(0).str(), arg(1).str()) + 1))
	case "split":
		if len(a) < 2 || a[1].op != "var" {
			panic(errAwkSyntax)
		}
		fs := r.vars["FS"].str()
		if len(a) > 2 {
			fs = arg(2).str()
		}
		parts := r.split(arg(0).str(), fs)
		arr := map[string]awkCell{}
		for i, p := range parts {
			arr[strconv.Itoa(i+1)] = awkInput(p)
		}
		r.arrays[a[1].str] = arr
		return awkNum(float64(len(parts)))
	case "sub", "gsub":
		if len(a) < 2 {
			panic(errAwkSyntax)
		}
		re := r.regex(a[0])
		repl := arg(1).str()
		target := &awkExpr{op: "field", args: []*awkExpr{{op: "num"}}}
		if len(a) > 2 {
			target = a[2]
		}
		src := r.get(target).str()
		n := 0
		out := re.ReplaceAllStringFunc(src, func(m string) string {
			if e.str == "sub" && n > 0 {
				return m
			}
			n++
			var b strings.Builder
			for i := 0; i < len(repl); i++ {
				switch {
				case repl[i] == '\\' && i+1 < len(repl) && (repl[i+1] == '&' || repl[i+1] == '\\'):
					i++
					b.WriteByte(repl[i])
				case repl[i] == '&':
					b.WriteString(m)
				default:
					b.WriteByte(repl[i])
				}
			}
			return b.String()
		})
		if n > 0 {
			r.set(target, awkStr(out))
		}
		return awkNum(float64(n))
	case "match":
		loc := r.regex(a[1]).FindStringIndex(arg(0).str())
		if loc == nil {
			r.vars["RSTART"], r.vars["RLENGTH"] = awkNum(0), awkNum(-1)
			return awkNum(0)
		}
		r.vars["RSTART"], r.vars["RLENGTH"] = awkNum(float64(loc[0]+1)), awkNum(float64(loc[1]-loc[0]))
		return awkNum(float64(loc[0] + 1))
	case "sprintf":
		if len(a) == 0 {
			return awkStr("")
		}
		vals := make([]awkCell, len(a))
		for i := range a {
			vals[i] = r.eval(a[i])
		}
		return awkStr(awkSprintf(vals[0].str(), vals[1:]))
	case "tolower":
		return awkStr(strings.ToLower(arg(0).str()))
	case "toupper":
		return awkStr(strings.ToUpper(arg(0).str()))
	case "int":
		return awkNum(math.Trunc(arg(0).num()))
	case "sqrt":
		return awkNum(math.Sqrt(arg(0).num()))
	case "exp":
		return awkNum(math.Exp(arg(0).num()))
	case "log":
		return awkNum(math.Log(arg(0).num()))
	}
	panic(errAwkSyntax)
}

// awkSprintf formats like C printf with awk's conversions of values.
func awkSprintf(format string, vals []awkCell) string {
	var b strings.Builder
	next := func() awkCell {
		if len(vals) == 0 {
			return awkStr("")
		}
		v := vals[0]
		vals = vals[1:]
		return v
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			break
		}
		spec := clampSpec(format[i+1 : j])
		switch verb := format[j]; verb {
		case '%':
			b.WriteByte('%')
		case 'd', 'i':
			fmt.Fprintf(&b, "%"+spec+"d", int64(next().num()))
		case 'o', 'x', 'X', 'u':
			v := uint64(int64(next().num()))
			if verb == 'u' {
				verb = 'd'
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), v)
		case 'e', 'E', 'f', 'F', 'g', 'G':
			if !strings.Contains(spec, ".") {
				spec += ".6"
			}
			fmt.Fprintf(&b, "%"+spec+string(verb), next().num())
		case 'c':
			v := next()
			s := v.str()
			if v.isNum {
				s = string([]byte{byte(int(v.n))})
			} else if len(s) > 1 {
				s = s[:1]
			}
			fmt.Fprintf(&b, "%"+spec+"s", s)
		case 's':
			fmt.Fprintf(&b, "%"+spec+"s", next().str())
		default:
			b.WriteString(format[i : j+1])
		}
		i = j
	}
	return b.String()
}
