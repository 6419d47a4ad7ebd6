package shell

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// find with the tests bots use to look for writable places and their own
// files: -name, -iname, -type, -maxdepth, -mindepth, -print, -exec … \;
// and -delete. The tests are ANDed, as BusyBox does without -o.

type findTest struct {
	kind string
	arg  string
	exec []string
}

func cmdFind(s *Shell, c *call) int {
	args := c.args[1:]
	var roots []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "!" && args[0] != "(" {
		roots = append(roots, args[0])
		args = args[1:]
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	var tests []findTest
	maxDepth, minDepth := -1, 0
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		need := func() (string, bool) {
			if len(args) == 0 {
				c.errf("%s requires an argument", a)
				return "", false
			}
			v := args[0]
			args = args[1:]
			return v, true
		}
		switch a {
		case "-name", "-iname", "-type", "-path":
			v, ok := need()
			if !ok {
				return 1
			}
			if a == "-type" && (len(v) != 1 || !strings.Contains("fdlcbps", v)) {
				c.errf("unknown argument to -type: %s", v)
				return 1
			}
			tests = append(tests, findTest{kind: a, arg: v})
		case "-maxdepth", "-mindepth":
			v, ok := need()
			if !ok {
				return 1
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				c.errf("invalid number '%s'", v)
				return 1
			}
			if a == "-maxdepth" {
				maxDepth = n
			} else {
				minDepth = n
			}
		case "-print", "-print0", "-delete", "-xdev", "-follow":
			tests = append(tests, findTest{kind: a})
		case "-exec":
			var cmd []string
			for len(args) > 0 && args[0] != ";" && args[0] != "+" {
				cmd = append(cmd, args[0])
				args = args[1:]
			}
			if len(args) == 0 || len(cmd) == 0 {
				c.errf("-exec CMD must end by ';' or '+'")
				return 1
			}
			args = args[1:]
			tests = append(tests, findTest{kind: a, exec: cmd})
		default:
			c.errf("unrecognized: %s", a)
			return s.usage(c, "find")
		}
	}
	acts := false
	for _, t := range tests {
		acts = acts || t.kind == "-print" || t.kind == "-print0" || t.kind == "-exec" || t.kind == "-delete"
	}
	st := 0
	for _, root := range roots {
		abs := root
		if !path.IsAbs(abs) {
			abs = path.Join(s.cwd, root)
		}
		_, n, err := s.fs.lookup(s.cwd, root, false)
		if err != nil {
			c.errf("%s: %s", root, err)
			st = 1
			continue
		}
		var walk func(abs, shown string, n *node, depth int) bool
		walk = func(abs, shown string, n *node, depth int) bool {
			if s.steps++; s.steps > s.lim.MaxLoop*10 {
				return false
			}
			if depth >= minDepth && s.findMatch(c, tests, abs, shown, n) && !acts {
				fmt.Fprintln(c.out, shown)
			}
			if n.isDir() && (maxDepth < 0 || depth < maxDepth) {
				for _, name := range s.fs.children(abs) {
					child := s.fs.nodes[path.Join(abs, name)]
					if child == nil {
						continue
					}
					if !walk(path.Join(abs, name), strings.TrimSuffix(shown, "/")+"/"+name, child, depth+1) {
						return false
					}
				}
			}
			return true
		}
		rp, _, _ := s.fs.lookup(s.cwd, root, false)
		if rp == "" {
			rp = abs
		}
		if n.isLink() && strings.HasSuffix(root, "/") {
			rp, n, _ = s.fs.lookup(s.cwd, root, true)
		}
		walk(rp, root, n, 0)
	}
	return st
}

// findMatch applies the tests in order, running the actions of a path
// that passed the tests before them.
func (s *Shell) findMatch(c *call, tests []findTest, abs, shown string, n *node) bool {
	for _, t := range tests {
		switch t.kind {
		case "-name", "-iname":
			name := path.Base(shown)
			pat := t.arg
			if t.kind == "-iname" {
				name, pat = strings.ToLower(name), strings.ToLower(pat)
			}
			if ok, _ := path.Match(pat, name); !ok {
				return false
			}
		case "-path":
			if ok, _ := path.Match(t.arg, shown); !ok {
				return false
			}
		case "-type":
			var k byte = 'f'
			switch {
			case n.isDir():
				k = 'd'
			case n.isLink():
				k = 'l'
			case n.dev != devNone:
				k = 'c'
			}
			if t.arg[0] != k {
				return false
			}
		case "-print":
			fmt.Fprintln(c.out, shown)
		case "-print0":
			fmt.Fprint(c.out, shown+"\x00")
		case "-delete":
			if err := s.fs.checkWritable(abs); err != nil {
				c.errf("%s: %s", shown, err)
				continue
			}
			s.fs.remove(abs)
		case "-exec":
			argv := make([]string, len(t.exec))
			for i, a := range t.exec {
				argv[i] = strings.ReplaceAll(a, "{}", shown)
			}
			if s.dispatch(c.ctx, c.fr, argv, c.stdio) != 0 {
				return false
			}
		}
	}
	return true
}

// cmdCrontab answers -l as BusyBox crontab does on a device without a
// crontab: the user must be in /etc/passwd and the spool directory exist.
func cmdCrontab(s *Shell, c *call) int {
	uid, _, _ := s.userIDs(s.cfg.Username)
	name := s.userName(uid)
	if name == "" {
		c.errf("unknown uid %d", uid)
		return 1
	}
	const spool = "/var/spool/cron/crontabs"
	if _, n, err := s.fs.lookup(s.cwd, spool, true); err != nil || !n.isDir() {
		if err == nil {
			err = errNotDir
		}
		c.errf("can't change directory to '%s': %s", spool, err)
		return 1
	}
	set, _ := flags(c.args[1:], "uc")
	if has(set, 'l') {
		_, n, err := s.fs.lookup(spool, name, true)
		if err != nil {
			c.errf("can't open '%s': %s", name, err)
			return 1
		}
		c.out.Write(s.readAll(n))
	}
	return 0
}

// userName is the /etc/passwd name of uid, "" if none.
func (s *Shell) userName(uid int) string {
	_, n, err := s.fs.lookup("/", "/etc/passwd", true)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(n.content()), "\n") {
		f := strings.Split(line, ":")
		if len(f) > 2 && f[2] == strconv.Itoa(uid) {
			return f[0]
		}
	}
	return ""
}

// cmdNc answers what bots see of nc without a network: its usage text
// when called without a destination.
func cmdNc(s *Shell, c *call) int {
	set, args := flags(c.args[1:], "iwpfe")
	if len(args) == 0 && !has(set, 'l') {
		return s.usage(c, "nc")
	}
	return 0
}
