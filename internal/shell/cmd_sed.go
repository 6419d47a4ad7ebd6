package shell

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
)

// A sed subset for what bots run: `s/re/rep/[gpNI]`, `p`, `d`, `q`, `=`,
// line, `$` and /regex/ addresses with ranges and `!`, -n, -e, -E/-r, -i.

type sedAddr struct {
	line int // 0: none; -1: $
	re   *regexp.Regexp
}

type sedCmd struct {
	a1, a2  sedAddr
	neg     bool
	op      byte
	re      *regexp.Regexp
	repl    string
	global  bool
	nth     int
	print   bool
	inRange bool
}

var errSedSyntax = errors.New("syntax")

func cmdSed(s *Shell, c *call) int {
	args := c.args[1:]
	var scripts []string
	quiet, ere, inPlace := false, false, false
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			files = append(files, a)
			continue
		}
		if a == "--" {
			files = append(files, args[i+1:]...)
			break
		}
	opts:
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'n':
				quiet = true
			case 'r', 'E':
				ere = true
			case 'i':
				inPlace = true
				break opts
			case 'e', 'f':
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						c.errf("option requires an argument -- '%c'", a[j])
						return s.usage(c, "sed")
					}
					i++
					v = args[i]
				}
				if a[j] == 'f' {
					_, n, err := s.fs.lookup(s.cwd, v, true)
					if err != nil {
						c.errf("can't open '%s': %s", v, err)
						return 1
					}
					v = strings.TrimSuffix(string(s.readAll(n)), "\n")
				}
				scripts = append(scripts, v)
				break opts
			default:
				c.errf("invalid option -- '%c'", a[j])
				return s.usage(c, "sed")
			}
		}
	}
	if len(scripts) == 0 {
		if len(files) == 0 {
			return s.usage(c, "sed")
		}
		scripts, files = files[:1], files[1:]
	}
	var prog []*sedCmd
	for _, sc := range scripts {
		cmds, err := parseSed(sc, ere)
		if err != nil {
			c.errf("%v", err)
			return 1
		}
		prog = append(prog, cmds...)
	}
	if inPlace {
		if len(files) == 0 {
			c.errf("no input files")
			return 1
		}
		st := 0
		for _, f := range files {
			_, d, e := s.inputs(c, []string{f}, "open")
			if e != 0 {
				st = 4
				continue
			}
			out, _ := runSed(prog, splitLines(d[0]), quiet, strings.HasSuffix(string(d[0]), "\n"))
			w, err := s.openOut(c.fr, c.stdio, f, false)
			if err != nil {
				st = 4
				continue
			}
			w.Write([]byte(out))
		}
		return st
	}
	names, datas, st := s.inputs(c, files, "open")
	var lines []string
	lastNL := true
	for i := range names {
		lines = append(lines, splitLines(datas[i])...)
		lastNL = len(datas[i]) == 0 || datas[i][len(datas[i])-1] == '\n'
	}
	out, _ := runSed(prog, lines, quiet, lastNL)
	c.out.Write([]byte(out))
	if st != 0 {
		return 2
	}
	return 0
}

func runSed(prog []*sedCmd, lines []string, quiet, lastNL bool) (string, bool) {
	var b strings.Builder
	for _, c := range prog {
		c.inRange = false
	}
	for i, line := range lines {
		last := i == len(lines)-1
		nl := "\n"
		if last && !lastNL {
			nl = ""
		}
		ps, deleted, quit := line, false, false
	cmds:
		for _, c := range prog {
			if !c.matches(i+1, last, ps) {
				continue
			}
			switch c.op {
			case 'p':
				b.WriteString(ps + "\n")
			case 'd':
				deleted = true
				break cmds
			case 'q':
				quit = true
				break cmds
			case '=':
				b.WriteString(strconv.Itoa(i+1) + "\n")
			case 's':
				n := 0
				done := false
				ps = c.re.ReplaceAllStringFunc(ps, func(m string) string {
					n++
					if done || (c.nth > 0 && n != c.nth) || (!c.global && c.nth == 0 && n > 1) {
						return m
					}
					if !c.global {
						done = true
					}
					sub := c.re.FindStringSubmatch(m)
					return sedExpand(c.repl, sub)
				})
				if n > 0 && (c.nth == 0 || n >= c.nth) && c.print {
					b.WriteString(ps + "\n")
				}
			}
		}
		if !deleted && !quiet {
			b.WriteString(ps + nl)
		}
		if quit {
			return b.String(), true
		}
	}
	return b.String(), false
}

// sedExpand fills & and \1..\9 in a replacement.
func sedExpand(repl string, sub []string) string {
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		switch {
		case c == '\\' && i+1 < len(repl):
			i++
			n := repl[i]
			switch {
			case n >= '0' && n <= '9':
				if k := int(n - '0'); k < len(sub) {
					b.WriteString(sub[k])
				}
			case n == 'n':
				b.WriteByte('\n')
			case n == 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(n)
			}
		case c == '&':
			if len(sub) > 0 {
				b.WriteString(sub[0])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (a sedAddr) match(n int, last bool, ps string) bool {
	switch {
	case a.re != nil:
		return a.re.MatchString(ps)
	case a.line == -1:
		return last
	}
	return a.line == n
}

func (c *sedCmd) matches(n int, last bool, ps string) bool {
	var m bool
	switch {
	case c.a1.line == 0 && c.a1.re == nil:
		m = true
	case c.a2.line == 0 && c.a2.re == nil:
		m = c.a1.match(n, last, ps)
	case c.inRange:
		m = true
		if c.a2.re == nil && c.a2.line != -1 && n >= c.a2.line || c.a2.match(n, last, ps) {
			c.inRange = false
		}
	default:
		if c.a1.match(n, last, ps) {
			m = true
			c.inRange = !(c.a2.re == nil && c.a2.line != -1 && c.a2.line <= n)
		}
	}
	return m != c.neg
}

func parseSed(src string, ere bool) ([]*sedCmd, error) {
	var cmds []*sedCmd
	i := 0
	compile := func(p string) (*regexp.Regexp, error) {
		if !ere {
			p = breToRE(p)
		} else {
			p = eregToRE(p)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, errors.New("bad regex '" + p + "': " + err.Error())
		}
		return re, nil
	}
	delim := func(d byte) (string, error) {
		var b strings.Builder
		for i < len(src) {
			c := src[i]
			if c == '\\' && i+1 < len(src) {
				if src[i+1] == d {
					b.WriteByte(d)
				} else {
					b.WriteByte(c)
					b.WriteByte(src[i+1])
				}
				i += 2
				continue
			}
			if c == d {
				i++
				return b.String(), nil
			}
			b.WriteByte(c)
			i++
		}
		return "", errSedSyntax
	}
	addr := func() (sedAddr, error) {
		var a sedAddr
		switch {
		case i < len(src) && src[i] == '$':
			i++
			a.line = -1
		case i < len(src) && src[i] >= '0' && src[i] <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			a.line, _ = strconv.Atoi(src[i:j])
			i = j
		case i < len(src) && (src[i] == '/' || src[i] == '\\'):
			d := byte('/')
			if src[i] == '\\' && i+1 < len(src) {
				i++
				d = src[i]
			}
			i++
			p, err := delim(d)
			if err != nil {
				return a, errors.New("unmatched '" + string(d) + "'")
			}
			if a.re, err = compile(p); err != nil {
				return a, err
			}
		}
		return a, nil
	}
	for {
		for i < len(src) && strings.IndexByte(" \t\n;", src[i]) >= 0 {
			i++
		}
		if i >= len(src) {
			return cmds, nil
		}
		c := &sedCmd{}
		var err error
		if c.a1, err = addr(); err != nil {
			return nil, err
		}
		if i < len(src) && src[i] == ',' {
			i++
			if c.a2, err = addr(); err != nil {
				return nil, err
			}
		}
		for i < len(src) && src[i] == ' ' {
			i++
		}
		if i < len(src) && src[i] == '!' {
			c.neg = true
			i++
		}
		if i >= len(src) {
			return nil, errors.New("missing command")
		}
		c.op = src[i]
		i++
		switch c.op {
		case 'p', 'd', 'q', '=':
		case 's':
			if i >= len(src) {
				return nil, errors.New("unterminated `s' command")
			}
			d := src[i]
			i++
			pat, err := delim(d)
			if err != nil {
				return nil, errors.New("unmatched '" + string(d) + "'")
			}
			if c.repl, err = delim(d); err != nil {
				return nil, errors.New("unmatched '" + string(d) + "'")
			}
			ci := false
			for i < len(src) && strings.IndexByte(" \t\n;}", src[i]) < 0 {
				switch f := src[i]; {
				case f == 'g':
					c.global = true
				case f == 'p':
					c.print = true
				case f == 'I' || f == 'i':
					ci = true
				case f >= '1' && f <= '9':
					c.nth = int(f - '0')
				default:
					return nil, errors.New("bad option in substitution expression")
				}
				i++
			}
			if ci {
				pat = "(?i)" + pat
			}
			if c.re, err = compile(pat); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("unsupported command " + string(c.op))
		}
		cmds = append(cmds, c)
	}
}
