package shell

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

func cmdLs(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "")
	long := has(set, 'l', 'n')
	all := has(set, 'a')
	almost := has(set, 'A')
	dirOnly := has(set, 'd')
	one := has(set, '1') || !isTerminal(c.out)
	if len(files) == 0 {
		files = []string{"."}
	}
	st := 0
	var plain []string
	var dirs []string
	for _, f := range files {
		// ls -l shows a link itself, but a link to a directory named with
		// a trailing slash is followed.
		_, n, err := s.fs.lookup(s.cwd, f, !long || strings.HasSuffix(f, "/"))
		if err != nil {
			c.errf("%s: %s", f, err)
			st = 1
			continue
		}
		if n.isDir() && !dirOnly {
			dirs = append(dirs, f)
		} else {
			plain = append(plain, f)
		}
	}
	sort.Strings(plain)
	sort.Strings(dirs)
	var total int64
	show := func(dir string, names []string) {
		type ent struct {
			name, disp string
			n          *node
		}
		var es []ent
		for _, nm := range names {
			p := nm
			if dir != "" {
				p = path.Join(dir, nm)
				if nm == "." || nm == ".." {
					p = dir + "/" + nm
				}
			}
			_, n, err := s.fs.lookup(s.cwd, p, false)
			if err != nil {
				continue
			}
			es = append(es, ent{nm, nm, n})
			total += (n.size() + 1023) / 1024
		}
		if long {
			if dir != "" {
				fmt.Fprintf(c.out, "total %d\n", total)
			}
			for _, e := range es {
				fmt.Fprintln(c.out, s.longLine(e.n, e.disp))
			}
			return
		}
		disp := make([]string, len(es))
		for i, e := range es {
			disp[i] = e.disp
		}
		if one {
			for _, d := range disp {
				fmt.Fprintln(c.out, d)
			}
			return
		}
		writeColumns(c.out, disp, s.cfg.Columns)
	}
	if len(plain) > 0 {
		show("", plain)
	}
	for i, d := range dirs {
		if len(files) > 1 {
			if i > 0 || len(plain) > 0 {
				fmt.Fprintln(c.out)
			}
			fmt.Fprintf(c.out, "%s:\n", d)
		}
		rp, _, _ := s.fs.lookup(s.cwd, d, true)
		var names []string
		if all {
			names = append(names, ".", "..")
		}
		for _, nm := range s.fs.children(rp) {
			if strings.HasPrefix(nm, ".") && !all && !almost {
				continue
			}
			names = append(names, nm)
		}
		total = 0
		show(d, names)
	}
	return st
}

func isTerminal(w any) bool {
	_, ok := w.(*termWriter)
	return ok
}

// writeColumns lays names out like BusyBox ls on a terminal: column-major,
// column width the longest name plus two.
func writeColumns(w interface{ Write([]byte) (int, error) }, names []string, width int) {
	if len(names) == 0 {
		return
	}
	colw := 0
	for _, n := range names {
		if len(n) > colw {
			colw = len(n)
		}
	}
	colw += 2
	ncols := width / colw
	nrows := len(names)
	if ncols > 1 {
		nrows = len(names) / ncols
		if nrows*ncols < len(names) {
			nrows++
		}
	} else {
		ncols = 1
	}
	var b strings.Builder
	for r := 0; r < nrows; r++ {
		col, next := 0, 0
		for cidx := 0; cidx < ncols; cidx++ {
			i := cidx*nrows + r
			if i >= len(names) {
				continue
			}
			if col > 0 {
				b.WriteString(strings.Repeat(" ", next-col))
				col = next
			}
			next = col + colw
			b.WriteString(names[i])
			col += len(names[i])
		}
		b.WriteByte('\n')
	}
	w.Write([]byte(b.String()))
}

func (s *Shell) longLine(n *node, name string) string {
	size := strconv.FormatInt(n.size(), 10)
	if n.isDir() {
		size = "0"
		if !n.proc {
			size = "4096"
		}
	}
	if n.isLink() {
		size = strconv.Itoa(len(n.target))
		name += " -> " + n.target
	}
	mode := n.mode
	if n.dev != devNone {
		mode |= fs.ModeCharDevice | fs.ModeDevice
		maj, min := devNumbers(n.dev)
		size = fmt.Sprintf("%4d, %4d", maj, min)
	}
	links := 1
	if n.isDir() {
		links = 2
	}
	return fmt.Sprintf("%s %4d %-8s %-8s %9s %s %s", modeString(mode), links, "root", "root", size, s.lsTime(n.mtime), name)
}

func devNumbers(d devKind) (int, int) {
	switch d {
	case devNull:
		return 1, 3
	case devZero:
		return 1, 5
	case devRandom:
		return 1, 9
	}
	return 5, 0
}

func (s *Shell) lsTime(t time.Time) string {
	if t.IsZero() {
		t = s.dev.BootTime(s.now())
	}
	now := s.now()
	if now.Sub(t) > 182*24*time.Hour || t.After(now.Add(time.Hour)) {
		return t.Format("Jan _2  2006")
	}
	return t.Format("Jan _2 15:04")
}
