package shell

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var textApplets = map[string]cmdFunc{
	"grep": cmdGrep, "egrep": cmdGrep, "fgrep": cmdGrep, "cut": cmdCut, "tr": cmdTr, "wc": cmdWc,
	"md5sum": cmdSum, "sha1sum": cmdSum, "sha256sum": cmdSum, "sort": cmdSort, "uniq": cmdUniq,
	"printf": cmdPrintf, "echo": cmdEcho, "test": cmdTest, "[": cmdTest, "[[": cmdTest,
	"yes": cmdYes, "seq": cmdSeq, "tee": cmdTee, "hexdump": cmdHexdump,
	"awk": cmdAwk, "sed": cmdSed, "expr": cmdExpr,
}

// inputs returns the contents of the named files (stdin for none or "-"),
// printing "name: file: error" for missing ones.
func (s *Shell) inputs(c *call, files []string, errFmt string) (names []string, data [][]byte, st int) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, f := range files {
		if f == "-" {
			names = append(names, "-")
			data = append(data, c.in.rest())
			continue
		}
		_, n, err := s.fs.lookup(s.cwd, f, true)
		if err == nil && n.isDir() {
			err = errIsDir
		}
		if err != nil {
			if errFmt == "open" {
				c.errf("can't open '%s': %s", f, err)
			} else {
				c.errf("%s: %s", f, err)
			}
			st = 1
			continue
		}
		names = append(names, f)
		data = append(data, s.readAll(n))
	}
	return
}

// eachInput calls f for each named file (stdin for none or "-") in order,
// printing the error for a missing one where it occurs, as BusyBox does.
func (s *Shell) eachInput(c *call, files []string, errFmt string, f func(name string, data []byte)) (st int) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		_, d, e := s.inputs(c, []string{name}, errFmt)
		if e != 0 {
			st = e
			continue
		}
		f(name, d[0])
	}
	return st
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

// breToRE converts a POSIX basic regular expression to Go syntax.
func breToRE(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			i++
			switch n := p[i]; n {
			case '(', ')', '{', '}', '|', '+', '?':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			continue
		}
		switch c {
		case '(', ')', '{', '}', '|', '+', '?':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '*':
			if i == 0 {
				b.WriteString(`\*`)
			} else {
				b.WriteByte('*')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func cmdGrep(s *Shell, c *call) int {
	// -e may be given several times: take them all before the other flags
	var pats []string
	var rest []string
	for i := 1; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "--":
			rest = append(rest, c.args[i:]...)
			i = len(c.args)
		case a == "-e" && i+1 < len(c.args):
			pats = append(pats, c.args[i+1])
			i++
		case strings.HasPrefix(a, "-e") && len(a) > 2:
			pats = append(pats, a[2:])
		default:
			rest = append(rest, a)
		}
	}
	set, args := flags(rest, "mABCf")
	if len(pats) > 0 {
		set['e'] = pats[0]
	} else {
		if len(args) == 0 {
			return s.usage(c, "grep")
		}
		pats, args = []string{args[0]}, args[1:]
	}
	ext := has(set, 'E') || c.args[0] == "egrep"
	fixed := has(set, 'F') || c.args[0] == "fgrep"
	var res []*regexp.Regexp
	for _, p := range pats {
		switch {
		case fixed:
			p = regexp.QuoteMeta(p)
		case !ext:
			p = breToRE(p)
		}
		if has(set, 'w') {
			p = `\b(?:` + p + `)\b`
		}
		if has(set, 'x') {
			p = `^(?:` + p + `)$`
		}
		if has(set, 'i') {
			p = "(?i)" + p
		}
		re, err := regexp.Compile(p)
		if err != nil {
			c.errf("bad regex '%s': %s", pats[0], "Invalid regular expression")
			return 2
		}
		res = append(res, re)
	}
	prefix := (len(args) > 1 || has(set, 'H')) && !has(set, 'h')
	found, quiet := false, false
	errc := c
	if has(set, 's') {
		errc = &call{ctx: c.ctx, fr: c.fr, args: c.args, stdio: stdio{in: c.in, out: c.out, err: discard{}}}
	}
	st := s.eachInput(errc, args, "", func(name string, d []byte) {
		if quiet {
			return
		}
		count := 0
		if name == "-" {
			name = "(standard input)"
		}
		for ln, line := range splitLines(d) {
			m := false
			for _, re := range res {
				if re.MatchString(line) {
					m = true
					break
				}
			}
			if m == has(set, 'v') {
				continue
			}
			count++
			found = true
			if has(set, 'q') {
				quiet = true
				return
			}
			if has(set, 'c', 'l', 'L') {
				continue
			}
			var b strings.Builder
			if prefix {
				b.WriteString(name + ":")
			}
			if has(set, 'n') {
				b.WriteString(strconv.Itoa(ln+1) + ":")
			}
			if has(set, 'o') && !has(set, 'v') {
				for _, mt := range res[0].FindAllString(line, -1) {
					fmt.Fprintf(c.out, "%s%s\n", b.String(), mt)
				}
				continue
			}
			b.WriteString(line)
			fmt.Fprintln(c.out, b.String())
		}
		switch {
		case has(set, 'l'):
			if count > 0 {
				fmt.Fprintln(c.out, name)
			}
		case has(set, 'L'):
			if count == 0 {
				fmt.Fprintln(c.out, name)
			}
		case has(set, 'c'):
			if prefix {
				fmt.Fprintf(c.out, "%s:%d\n", name, count)
			} else {
				fmt.Fprintln(c.out, count)
			}
		}
	})
	if quiet {
		return 0
	}
	if st != 0 && !has(set, 's') {
		return 2
	}
	if !found {
		return 1
	}
	return 0
}

// parseList parses a cut list ("1,3-5,7-") into ranges.
func parseList(l string) ([][2]int, bool) {
	var out [][2]int
	for _, f := range strings.Split(l, ",") {
		lo, hi, isRange := strings.Cut(f, "-")
		a, b := 1, 1<<30
		var err error
		if lo != "" {
			if a, err = strconv.Atoi(lo); err != nil || a < 1 {
				return nil, false
			}
		}
		if !isRange {
			b = a
		} else if hi != "" {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, false
			}
		}
		if lo == "" && hi == "" {
			return nil, false
		}
		out = append(out, [2]int{a, b})
	}
	return out, true
}

func inList(l [][2]int, i int) bool {
	for _, r := range l {
		if i >= r[0] && i <= r[1] {
			return true
		}
	}
	return false
}

func cmdCut(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "dfcb")
	delim := "\t"
	if d, ok := set['d']; ok {
		if len(d) != 1 {
			c.errf("the delimiter must be a single character")
			return 1
		}
		delim = d
	}
	spec, mode := "", byte(0)
	for _, m := range []byte{'f', 'c', 'b'} {
		if v, ok := set[m]; ok {
			spec, mode = v, m
		}
	}
	if mode == 0 {
		c.errf("expected a list of bytes, characters, or fields")
		return 1
	}
	list, ok := parseList(spec)
	if !ok {
		c.errf("invalid byte or character range")
		return 1
	}
	_, datas, st := s.inputs(c, files, "")
	var b strings.Builder
	for _, d := range datas {
		for _, line := range splitLines(d) {
			if mode != 'f' {
				for i := 0; i < len(line); i++ {
					if inList(list, i+1) {
						b.WriteByte(line[i])
					}
				}
				b.WriteByte('\n')
				continue
			}
			if !strings.Contains(line, delim) {
				if !has(set, 's') {
					b.WriteString(line + "\n")
				}
				continue
			}
			var out []string
			for i, f := range strings.Split(line, delim) {
				if inList(list, i+1) {
					out = append(out, f)
				}
			}
			b.WriteString(strings.Join(out, delim) + "\n")
		}
	}
	c.out.Write([]byte(b.String()))
	return st
}

// trSet expands a tr set: ranges, escapes and [:class:].
func cmdWc(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "")
	want := []byte{}
	for _, f := range []byte{'l', 'w', 'c', 'm'} {
		if has(set, f) {
			want = append(want, f)
		}
	}
	if len(want) == 0 {
		want = []byte{'l', 'w', 'c'}
	}
	names, datas, st := s.inputs(c, files, "")
	var tot [3]int
	line := func(counts [3]int, name string) {
		var parts []string
		for _, w := range want {
			var v int
			switch w {
			case 'l':
				v = counts[0]
			case 'w':
				v = counts[1]
			default:
				v = counts[2]
			}
			if len(want) == 1 {
				parts = append(parts, strconv.Itoa(v))
			} else {
				parts = append(parts, fmt.Sprintf("%9d", v))
			}
		}
		out := strings.Join(parts, " ")
		if name != "-" {
			out += " " + name
		}
		fmt.Fprintln(c.out, out)
	}
	for i, d := range datas {
		cnt := [3]int{bytes.Count(d, []byte("\n")), len(bytes.Fields(d)), len(d)}
		for k := range tot {
			tot[k] += cnt[k]
		}
		line(cnt, names[i])
	}
	if len(datas) > 1 {
		line(tot, "total")
	}
	return st
}

func cmdSum(s *Shell, c *call) int {
	_, files := flags(c.args[1:], "")
	return s.eachInput(c, files, "open", func(name string, d []byte) {
		var h hash.Hash
		switch c.args[0] {
		case "sha1sum":
			h = sha1.New()
		case "sha256sum":
			h = sha256.New()
		default:
			h = md5.New()
		}
		h.Write(d)
		fmt.Fprintf(c.out, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), name)
	})
}

func cmdSort(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "kto")
	_, datas, st := s.inputs(c, files, "")
	var lines []string
	for _, d := range datas {
		lines = append(lines, splitLines(d)...)
	}
	num := has(set, 'n')
	less := func(a, b string) bool { return a < b }
	if num {
		less = func(a, b string) bool { return leadNum(a) < leadNum(b) }
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if has(set, 'r') {
			return less(lines[j], lines[i])
		}
		return less(lines[i], lines[j])
	})
	var b strings.Builder
	for i, l := range lines {
		if has(set, 'u') && i > 0 && l == lines[i-1] {
			continue
		}
		b.WriteString(l + "\n")
	}
	c.out.Write([]byte(b.String()))
	return st
}

func leadNum(s string) float64 {
	s = strings.TrimLeft(s, " \t")
	e := 0
	for e < len(s) && (s[e] >= '0' && s[e] <= '9' || s[e] == '.' || e == 0 && s[e] == '-') {
		e++
	}
	v, _ := strconv.ParseFloat(s[:e], 64)
	return v
}

func cmdUniq(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "fs")
	_, datas, st := s.inputs(c, files[:min(len(files), 1)], "")
	var b strings.Builder
	for _, d := range datas {
		lines := splitLines(d)
		for i := 0; i < len(lines); {
			j := i
			for j < len(lines) && lines[j] == lines[i] {
				j++
			}
			n := j - i
			if (has(set, 'd') && n < 2) || (has(set, 'u') && n > 1) {
				i = j
				continue
			}
			if has(set, 'c') {
				fmt.Fprintf(&b, "%7d %s\n", n, lines[i])
			} else {
				b.WriteString(lines[i] + "\n")
			}
			i = j
		}
	}
	c.out.Write([]byte(b.String()))
	return st
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
