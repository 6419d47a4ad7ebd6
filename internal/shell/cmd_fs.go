package shell

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

var fsApplets = map[string]cmdFunc{
	"cat": cmdCat, "ls": cmdLs, "cp": cmdCp, "mv": cmdMv, "rm": cmdRm, "rmdir": cmdRmdir,
	"mkdir": cmdMkdir, "chmod": cmdChmod, "chown": cmdChown, "chgrp": cmdChown, "touch": cmdTouch,
	"ln": cmdLn, "readlink": cmdReadlink, "find": cmdFind, "nc": cmdNc,
	"basename": cmdBasename, "dirname": cmdDirname, "sync": cmdTrue, "mkfifo": cmdTouch,
}

// flags splits leading -abc options from operands; "--" ends options.
func flags(args []string, withValue string) (set map[byte]string, rest []string) {
	set = map[byte]string{}
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return set, args[1:]
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		for i := 1; i < len(a); i++ {
			f := a[i]
			if strings.IndexByte(withValue, f) >= 0 {
				v := a[i+1:]
				if v == "" && len(args) > 0 {
					v, args = args[0], args[1:]
				}
				set[f] = v
				break
			}
			set[f] = ""
		}
	}
	return set, args
}

func has(set map[byte]string, fs ...byte) bool {
	for _, f := range fs {
		if _, ok := set[f]; ok {
			return true
		}
	}
	return false
}

func (s *Shell) usage(c *call, name string) int {
	fmt.Fprintf(c.err, "%s\n\n%s", s.prof.BusyBox.Banner, usageText(name))
	return 1
}

func cmdCat(s *Shell, c *call) int {
	_, files := flags(c.args[1:], "")
	if len(files) == 0 {
		files = []string{"-"}
	}
	st := 0
	for _, f := range files {
		if f == "-" {
			c.out.Write(c.in.rest())
			continue
		}
		_, n, err := s.fs.lookup(s.cwd, f, true)
		if err != nil {
			c.errf("can't open '%s': %s", f, err)
			st = 1
			continue
		}
		if n.isDir() {
			c.errf("read error: Is a directory")
			st = 1
			continue
		}
		if n.dev == devZero || n.dev == devRandom {
			// endless devices: write until the output budget is spent
			for i := 0; i < 1<<12; i++ {
				if _, err := c.out.Write(s.readAll(n)); err != nil {
					break
				}
			}
			continue
		}
		if _, err := c.out.Write(s.readAll(n)); err != nil && err != errOutput {
			c.errf("write error: %s", err)
			st = 1
		}
	}
	return st
}

func cmdMkdir(s *Shell, c *call) int {
	set, dirs := flags(c.args[1:], "m")
	if len(dirs) == 0 {
		return s.usage(c, "mkdir")
	}
	st := 0
	for _, d := range dirs {
		var err error
		if has(set, 'p') {
			err = s.mkdirP(d)
		} else {
			var p string
			if p, err = s.fs.resolve(s.cwd, d, true); err == nil {
				err = s.fs.mkdirChecked(p)
			}
		}
		if err != nil {
			c.errf("can't create directory '%s': %s", d, err)
			st = 1
		}
	}
	return st
}

// mkdirP creates d and its missing parents, following links on the way.
func (s *Shell) mkdirP(d string) error {
	if !path.IsAbs(d) {
		d = path.Join(s.cwd, d)
	}
	cur := "/"
	for _, part := range strings.Split(path.Clean(d), "/")[1:] {
		next := path.Join(cur, part)
		p, n, err := s.fs.lookup("/", next, true)
		switch {
		case err == nil && n.isDir():
		case err == nil:
			return errExist
		case err == errNoEnt && s.fs.nodes[p] == nil:
			if err := s.fs.mkdirChecked(p); err != nil {
				return err
			}
		default:
			return err
		}
		cur = p
	}
	return nil
}

func cmdRmdir(s *Shell, c *call) int {
	_, dirs := flags(c.args[1:], "")
	st := 0
	for _, d := range dirs {
		p, n, err := s.fs.lookup(s.cwd, d, false)
		if err == nil && !n.isDir() {
			err = errNotDir
		}
		if err == nil && len(s.fs.children(p)) > 0 {
			err = errNotEmpty
		}
		if err == nil {
			err = s.fs.checkWritable(path.Dir(p))
		}
		if err != nil {
			c.errf("'%s': %s", d, err)
			st = 1
			continue
		}
		s.fs.remove(p)
	}
	return st
}

func cmdRm(s *Shell, c *call) int {
	set, files := flags(c.args[1:], "")
	force := has(set, 'f')
	rec := has(set, 'r', 'R')
	if len(files) == 0 {
		if force {
			return 0
		}
		return s.usage(c, "rm")
	}
	st := 0
	for _, f := range files {
		p, n, err := s.fs.lookup(s.cwd, f, false)
		if err != nil {
			if !force {
				c.errf("can't remove '%s': %s", f, err)
				st = 1
			}
			continue
		}
		if n.isDir() && !rec {
			c.errf("'%s' is a directory", f)
			st = 1
			continue
		}
		if p == "/" || strings.HasSuffix(f, "/.") || strings.HasSuffix(f, "/..") || f == "." || f == ".." {
			c.errf("can't remove '%s' or '..'", ".")
			st = 1
			continue
		}
		if err := s.fs.checkWritable(path.Dir(p)); err != nil || n.proc {
			if err == nil {
				err = errPerm
			}
			c.errf("can't remove '%s': %s", f, err)
			st = 1
			continue
		}
		s.fs.remove(p)
	}
	return st
}

func (s *Shell) copyNode(dst *node, src *node) {
	dst.data = src.content()
	dst.owned = false
	if src.owned { // both share the data now; src may be a base node, never written
		src.owned = false
	}
	dst.url = src.url
	dst.cmds = append([]string(nil), src.cmds...)
	dst.ncmds = src.ncmds
	dst.mode = src.mode
	dst.dirty = true
	dst.mtime = s.now()
}

func cmdCp(s *Shell, c *call) int {
	set, args := flags(c.args[1:], "t")
	if len(args) < 2 {
		return s.usage(c, "cp")
	}
	rec := has(set, 'r', 'R', 'a')
	dst := args[len(args)-1]
	srcs := args[:len(args)-1]
	dp, dn, derr := s.fs.lookup(s.cwd, dst, true)
	intoDir := derr == nil && dn.isDir()
	if len(srcs) > 1 && !intoDir {
		c.errf("'%s' is not a directory", dst)
		return 1
	}
	st := 0
	for _, src := range srcs {
		sp, sn, err := s.fs.lookup(s.cwd, src, true)
		if err != nil {
			c.errf("can't stat '%s': %s", src, err)
			st = 1
			continue
		}
		target := dst
		if intoDir {
			target = path.Join(dp, path.Base(sp))
		}
		if sn.isDir() {
			if !rec {
				c.errf("omitting directory '%s'", src)
				st = 1
				continue
			}
			if tp, err := s.fs.resolve(s.cwd, target, true); err == nil && (tp == sp || strings.HasPrefix(tp, strings.TrimSuffix(sp, "/")+"/")) {
				c.errf("recursion detected, omitting directory '%s'", src)
				st = 1
				continue
			}
			if err := s.copyTree(sp, target); err != nil {
				c.errf("can't create directory '%s': %s", target, err)
				st = 1
			}
			continue
		}
		if err := s.copyFile(sn, target); err != nil {
			c.errf("can't create '%s': %s", target, err)
			st = 1
		}
	}
	return st
}

func (s *Shell) copyFile(sn *node, target string) error {
	tp, tn, err := s.fs.create(s.cwd, target, false)
	if err != nil {
		return err
	}
	_ = tp
	if tn.dev != devNone || tn.proc {
		return s.fs.write(tn, s.readAll(sn))
	}
	data := s.readAll(sn)
	if err := s.fs.setData(tn, data); err != nil {
		return err
	}
	s.copyNode(tn, sn)
	return nil
}

func (s *Shell) copyTree(src, dst string) error {
	dp, err := s.fs.resolve(s.cwd, dst, true)
	if err != nil {
		return err
	}
	if s.fs.nodes[dp] == nil {
		if err := s.fs.mkdirChecked(dp); err != nil {
			return err
		}
	}
	for _, name := range s.fs.children(src) {
		n := s.fs.nodes[path.Join(src, name)]
		if n.isDir() {
			if err := s.copyTree(path.Join(src, name), path.Join(dp, name)); err != nil {
				return err
			}
			continue
		}
		if err := s.copyFile(n, path.Join(dp, name)); err != nil {
			return err
		}
	}
	return nil
}

func cmdMv(s *Shell, c *call) int {
	_, args := flags(c.args[1:], "")
	if len(args) < 2 {
		return s.usage(c, "mv")
	}
	dst := args[len(args)-1]
	dp, dn, derr := s.fs.lookup(s.cwd, dst, true)
	intoDir := derr == nil && dn.isDir()
	st := 0
	for _, src := range args[:len(args)-1] {
		sp, _, err := s.fs.lookup(s.cwd, src, false)
		if err != nil {
			c.errf("can't rename '%s': %s", src, err)
			st = 1
			continue
		}
		target := dp
		if intoDir {
			target = path.Join(dp, path.Base(sp))
		} else if derr != nil && derr != errNoEnt {
			c.errf("can't rename '%s': %s", src, derr)
			st = 1
			continue
		}
		if target == sp {
			continue
		}
		err = s.fs.checkWritable(path.Dir(target))
		if err == nil {
			err = s.fs.checkWritable(path.Dir(sp))
		}
		if err != nil {
			c.errf("can't rename '%s': %s", src, err)
			st = 1
			continue
		}
		if _, err := s.fs.parentDir(target); err != nil {
			c.errf("can't rename '%s': %s", src, err)
			st = 1
			continue
		}
		s.fs.remove(target)
		s.fs.rename(sp, target)
	}
	return st
}

// parseMode applies an octal or symbolic chmod mode to old.
func parseMode(spec string, old fs.FileMode) (fs.FileMode, bool) {
	if v, err := strconv.ParseUint(spec, 8, 32); err == nil {
		if v > 0o7777 {
			return 0, false
		}
		m := old&^0o7777 | fs.FileMode(v&0o777)
		if v&0o1000 != 0 {
			m |= fs.ModeSticky
		}
		return m, true
	}
	m := old
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		var who fs.FileMode
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			switch clause[i] {
			case 'u':
				who |= 0o700
			case 'g':
				who |= 0o070
			case 'o':
				who |= 0o007
			case 'a':
				who |= 0o777
			}
			i++
		}
		if who == 0 {
			who = 0o777
		}
		if i >= len(clause) {
			return 0, false
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return 0, false
			}
			i++
			var perm fs.FileMode
			for i < len(clause) && strings.IndexByte("rwxXst", clause[i]) >= 0 {
				switch clause[i] {
				case 'r':
					perm |= 0o444
				case 'w':
					perm |= 0o222
				case 'x', 'X':
					perm |= 0o111
				}
				i++
			}
			perm &= who
			switch op {
			case '+':
				m |= perm
			case '-':
				m &^= perm
			case '=':
				m = m&^who | perm
			}
		}
	}
	return m, true
}

func cmdChmod(s *Shell, c *call) int {
	args := c.args[1:]
	rec := false
	for len(args) > 0 && (args[0] == "-R" || args[0] == "-f" || args[0] == "-v" || args[0] == "-c") {
		rec = rec || args[0] == "-R"
		args = args[1:]
	}
	if len(args) < 2 {
		return s.usage(c, "chmod")
	}
	spec := args[0]
	st := 0
	for _, f := range args[1:] {
		p, n, err := s.fs.lookup(s.cwd, f, true)
		if err != nil {
			c.errf("%s: %s", f, err)
			st = 1
			continue
		}
		m, ok := parseMode(spec, n.mode)
		if !ok {
			c.errf("invalid mode '%s'", spec)
			return 1
		}
		if err := s.fs.checkWritable(p); err != nil || n.proc {
			if err == nil {
				err = errPerm
			}
			c.errf("%s: %s", f, err)
			st = 1
			continue
		}
		n = s.fs.own(p, n)
		n.mode = m
		if m&0o111 != 0 && !n.isDir() {
			s.maybeSample(c.ctx, p, n, "chmod")
		}
		_ = rec
	}
	return st
}

func cmdChown(s *Shell, c *call) int {
	_, args := flags(c.args[1:], "")
	if len(args) < 2 {
		return s.usage(c, c.args[0])
	}
	st := 0
	for _, f := range args[1:] {
		if _, _, err := s.fs.lookup(s.cwd, f, true); err != nil {
			c.errf("%s: %s", f, err)
			st = 1
		}
	}
	return st
}

func cmdTouch(s *Shell, c *call) int {
	_, files := flags(c.args[1:], "dtr")
	if len(files) == 0 {
		return s.usage(c, "touch")
	}
	st := 0
	for _, f := range files {
		if p, n, err := s.fs.lookup(s.cwd, f, true); err == nil {
			if !n.proc && !n.ro {
				s.fs.own(p, n).mtime = s.now()
			}
			continue
		}
		if _, _, err := s.fs.create(s.cwd, f, true); err != nil {
			c.errf("%s: %s", f, err)
			st = 1
		}
	}
	return st
}

func cmdLn(s *Shell, c *call) int {
	set, args := flags(c.args[1:], "")
	if len(args) == 0 {
		return s.usage(c, "ln")
	}
	target := args[0]
	link := path.Base(target)
	if len(args) > 1 {
		link = args[1]
	}
	lp, ln, err := s.fs.lookup(s.cwd, link, true)
	if err == nil && ln.isDir() {
		lp = path.Join(lp, path.Base(target))
		link = lp
	}
	if s.fs.nodes[lp] != nil {
		if !has(set, 'f') {
			c.errf("%s: File exists", link)
			return 1
		}
		s.fs.remove(lp)
	}
	if _, err := s.fs.parentDir(lp); err != nil {
		c.errf("%s: %s", link, err)
		return 1
	}
	if err := s.fs.checkWritable(path.Dir(lp)); err != nil {
		c.errf("%s: %s", link, err)
		return 1
	}
	if has(set, 's') {
		s.fs.nodes[lp] = &node{mode: fs.ModeSymlink | 0o777, target: target, mtime: s.now()}
		return 0
	}
	_, tn, err := s.fs.lookup(s.cwd, target, true)
	if err != nil {
		c.errf("%s: %s", target, err)
		return 1
	}
	s.fs.nodes[lp] = tn // a hard link is the same node
	return 0
}

func cmdReadlink(s *Shell, c *call) int {
	set, args := flags(c.args[1:], "")
	if len(args) == 0 {
		return 1
	}
	if has(set, 'f') {
		p, err := s.fs.resolve(s.cwd, args[0], true)
		if err != nil {
			return 1
		}
		fmt.Fprintln(c.out, p)
		return 0
	}
	_, n, err := s.fs.lookup(s.cwd, args[0], false)
	if err != nil || !n.isLink() {
		return 1
	}
	fmt.Fprintln(c.out, n.target)
	return 0
}

func cmdBasename(s *Shell, c *call) int {
	if len(c.args) < 2 {
		return s.usage(c, "basename")
	}
	b := path.Base(c.args[1])
	if len(c.args) > 2 && b != c.args[2] {
		b = strings.TrimSuffix(b, c.args[2])
	}
	fmt.Fprintln(c.out, b)
	return 0
}

func cmdDirname(s *Shell, c *call) int {
	if len(c.args) < 2 {
		return s.usage(c, "dirname")
	}
	fmt.Fprintln(c.out, path.Dir(c.args[1]))
	return 0
}
