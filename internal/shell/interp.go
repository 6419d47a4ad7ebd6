package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

var errOutput = errors.New("output limit reached")

// frame is one running shell level: the login shell, sh -c, a script.
type frame struct {
	name   string   // arg0 printed before error messages
	script bool     // errors carry "line N:"
	line   int      // current line (scripts)
	args   []string // positional parameters, args[0] = $0
	depth  int
	// control flow
	exit     bool
	exitCode int
	ret      bool // the exit comes from return
	brk      int  // break levels pending
	cont     int  // continue levels pending
}

// input is a command's standard input: a byte stream shared by the
// commands of a loop so that `while read` consumes it line by line.
type input struct {
	data []byte
	off  int
}

func (in *input) rest() []byte {
	if in == nil {
		return nil
	}
	b := in.data[in.off:]
	in.off = len(in.data)
	return b
}

func (in *input) readLine() (string, bool) {
	if in == nil || in.off >= len(in.data) {
		return "", false
	}
	b := in.data[in.off:]
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		in.off = len(in.data)
		return string(b), true
	}
	in.off += i + 1
	return string(b[:i]), true
}

type stdio struct {
	in       *input
	out, err io.Writer
}

// prefix returns the "arg0: [line N: ]" part of shell error messages, as
// BusyBox ash prints them: a login shell says "-sh: ", a script
// "name: line N: ".
func (fr *frame) prefix(cmd string) string {
	var b strings.Builder
	b.WriteString(fr.name)
	b.WriteString(": ")
	if cmd != "" {
		b.WriteString(cmd)
		b.WriteString(": ")
	}
	if fr.script || (fr.depth > 0 && cmd != "") {
		fmt.Fprintf(&b, "line %d: ", fr.line)
	}
	return b.String()
}

func (s *Shell) errf(fr *frame, io stdio, cmd, format string, a ...any) {
	fmt.Fprintf(io.err, fr.prefix(cmd)+format+"\n", a...)
}

// runTop runs one interactive input line.
func (s *Shell) runTop(ctx context.Context, line string, tw io.Writer) int {
	fr := &frame{name: "-sh", args: []string{"-sh"}}
	l, err := parseShared(line, s.lim.MaxDepth*4)
	if err != nil {
		fmt.Fprintf(tw, "-sh: %v\n", err)
		return 2
	}
	io := stdio{out: tw, err: tw}
	for i, item := range l.items {
		if needsTerminal(item) {
			s.pending = &pendingInput{items: l.items[i:], fr: fr, line: line}
			return s.status
		}
		s.status = s.runAndOr(ctx, fr, item, io)
		if fr.exit {
			s.exited = true
			return fr.exitCode
		}
		if s.aborted(ctx) {
			break
		}
	}
	return s.status
}

// aborted reports whether this Exec must stop: cancelled, or a limit on
// steps or output reached.
func (s *Shell) aborted(ctx context.Context) bool {
	return ctx.Err() != nil || s.steps > s.lim.MaxLoop || s.outLeft <= 0 || s.exited || s.overBusy()
}

func (s *Shell) runList(ctx context.Context, fr *frame, l *list, io stdio) int {
	st := 0
	for _, item := range l.items {
		if s.aborted(ctx) || fr.exit || fr.brk > 0 || fr.cont > 0 {
			break
		}
		st = s.runAndOr(ctx, fr, item, io)
		s.status = st
	}
	return st
}

func (s *Shell) runAndOr(ctx context.Context, fr *frame, ao *andOr, io stdio) int {
	st := s.runPipeline(ctx, fr, ao.pipes[0], io)
	s.status = st
	for i, op := range ao.ops {
		if fr.exit || fr.brk > 0 || fr.cont > 0 || s.aborted(ctx) {
			break
		}
		if (op == "&&") != (st == 0) {
			continue
		}
		st = s.runPipeline(ctx, fr, ao.pipes[i+1], io)
		s.status = st
	}
	if ao.bg {
		// Background jobs run to completion here (there is no real
		// process); the shell reports success and a fresh $!.
		s.lastBG = s.newPID()
		return 0
	}
	return st
}

func (s *Shell) newPID() int {
	s.nextPID += 1 + s.rnd.Intn(3)
	return s.nextPID
}

func (s *Shell) runPipeline(ctx context.Context, fr *frame, pl *pipeline, io stdio) int {
	st := 0
	if len(pl.cmds) == 1 {
		st = s.runCommand(ctx, fr, pl.cmds[0], io)
	} else {
		in := io.in
		for i, c := range pl.cmds {
			cio := io
			cio.in = in
			var buf *limitBuffer
			if i < len(pl.cmds)-1 {
				buf = &limitBuffer{max: s.lim.MaxFileBytes, budget: s.cfg.Memory}
				defer buf.release()
				cio.out = buf
			}
			// each stage is a subshell: exit or break inside does not leak
			sub := *fr
			st = s.runCommand(ctx, &sub, c, cio)
			if buf != nil {
				in = &input{data: buf.Bytes()}
			}
			if s.aborted(ctx) {
				break
			}
		}
	}
	if pl.bang {
		if st == 0 {
			st = 1
		} else {
			st = 0
		}
	}
	return st
}

// limitBuffer collects a pipe's data up to max bytes and what the
// process's memory budget grants; more is dropped, like a reader that
// stopped reading.
type limitBuffer struct {
	bytes.Buffer
	max     int64
	budget  *MemBudget
	charged int64
}

func (b *limitBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.Len())
	if room <= 0 {
		return 0, errTooBig
	}
	want := min(int64(len(p)), room)
	got := b.budget.take(want)
	b.charged += got
	b.Buffer.Write(p[:got])
	if got < int64(len(p)) {
		return int(got), errTooBig
	}
	return len(p), nil
}

// release gives the pipe's memory back once the pipeline is done.
func (b *limitBuffer) release() {
	b.budget.release(b.charged)
	b.charged = 0
}

func (s *Shell) runCommand(ctx context.Context, fr *frame, c command, io stdio) int {
	s.steps++
	if s.aborted(ctx) {
		return s.status
	}
	switch c := c.(type) {
	case *simpleCmd:
		return s.runSimple(ctx, fr, c, io)
	case *ifCmd:
		return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
			for i, cond := range c.conds {
				if s.runList(ctx, fr, cond, io) == 0 {
					return s.runList(ctx, fr, c.bodies[i], io)
				}
				if fr.exit || s.aborted(ctx) {
					return s.status
				}
			}
			if c.els != nil {
				return s.runList(ctx, fr, c.els, io)
			}
			return 0
		})
	case *loopCmd:
		return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
			st := 0
			for !s.aborted(ctx) {
				s.steps++
				r := s.runList(ctx, fr, c.cond, io)
				if fr.exit || fr.brk > 0 {
					break
				}
				if (r == 0) == c.until {
					break
				}
				st = s.runList(ctx, fr, c.body, io)
				if s.loopCtl(fr) {
					break
				}
			}
			return st
		})
	case *forCmd:
		return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
			var items []string
			if c.hasIn {
				var ok bool
				items, ok = s.expandWords(ctx, fr, c.items, io)
				if !ok {
					return 1
				}
			} else {
				items = fr.args[1:]
			}
			st := 0
			for _, it := range items {
				s.steps++
				if s.aborted(ctx) {
					break
				}
				s.setVar(c.name, it)
				st = s.runList(ctx, fr, c.body, io)
				if s.loopCtl(fr) {
					break
				}
			}
			return st
		})
	case *caseCmd:
		return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
			subj, ok := s.expandWord(ctx, fr, c.subject, io)
			if !ok {
				return 1
			}
			for _, it := range c.items {
				for _, pw := range it.patterns {
					pat, ok := s.expandWord(ctx, fr, pw, io)
					if !ok {
						return 1
					}
					if m, err := path.Match(pat, subj); (err == nil && m) || pat == subj {
						return s.runList(ctx, fr, it.body, io)
					}
				}
			}
			return 0
		})
	case *funcDef:
		if len(s.funcs) < 1000 {
			s.funcs[c.name] = c.body
		}
		return 0
	case *groupCmd:
		return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
			if !c.subshell {
				return s.runList(ctx, fr, c.body, io)
			}
			sub := *fr
			sub.exit = false
			saveCwd := s.cwd
			saveVars := cloneMap(s.vars)
			st := s.runList(ctx, &sub, c.body, io)
			if sub.exit {
				st = sub.exitCode
			}
			s.cwd, s.vars = saveCwd, saveVars
			s.recountVars()
			return st
		})
	}
	return 0
}

// loopCtl consumes pending break/continue; true ends the loop.
func (s *Shell) loopCtl(fr *frame) bool {
	if fr.exit {
		return true
	}
	if fr.brk > 0 {
		fr.brk--
		return true
	}
	if fr.cont > 0 {
		fr.cont--
		return fr.cont > 0
	}
	return false
}

func cloneMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Shell) runSimple(ctx context.Context, fr *frame, c *simpleCmd, io stdio) int {
	s.substRan = false
	args, ok := s.expandWords(ctx, fr, c.args, io)
	if !ok {
		return 1
	}
	if len(args) == 0 {
		// an assignment's status is that of its last command substitution
		defer func(prev int) {
			if !s.substRan {
				s.status = 0
			}
		}(s.status)
		for _, a := range c.assigns {
			v, ok := s.expandWord(ctx, fr, a.value, io)
			if !ok {
				return 1
			}
			s.setVar(a.name, v)
		}
		if len(c.redirs) > 0 {
			return s.withRedirs(ctx, fr, c.redirs, io, func(stdio) int { return s.status })
		}
		return s.status
	}
	// Assignments before a command apply to it only; as nothing runs in a
	// separate environment here they are set and restored.
	var restore []assign
	for _, a := range c.assigns {
		v, ok := s.expandWord(ctx, fr, a.value, io)
		if !ok {
			return 1
		}
		old, had := s.vars[a.name]
		if had {
			restore = append(restore, assign{a.name, &word{parts: []part{{text: old}}}})
		} else {
			restore = append(restore, assign{a.name, nil})
		}
		s.setVar(a.name, v)
	}
	defer func() {
		for _, r := range restore {
			if r.value == nil {
				delete(s.vars, r.name)
			} else {
				s.vars[r.name] = r.value.parts[0].text
			}
		}
	}()
	return s.withRedirs(ctx, fr, c.redirs, io, func(io stdio) int {
		return s.dispatch(ctx, fr, args, io)
	})
}

// withRedirs applies redirections, runs f and closes what it opened.
func (s *Shell) withRedirs(ctx context.Context, fr *frame, rs []*redir, sio stdio, f func(stdio) int) int {
	if len(rs) == 0 {
		return f(sio)
	}
	fds := map[int]io.Writer{1: sio.out, 2: sio.err}
	in := sio.in
	for _, r := range rs {
		if r.op == "<<" {
			body := r.body
			if !r.quoted {
				body = s.expandHeredoc(ctx, fr, body, sio)
			}
			if r.fd == 0 {
				in = &input{data: []byte(body)}
			}
			continue
		}
		target, ok := s.expandWord(ctx, fr, r.target, sio)
		if !ok {
			return 1
		}
		switch r.op {
		case ">&", "<&":
			if target == "-" {
				fds[r.fd] = io.Discard
				continue
			}
			n, err := strconv.Atoi(target)
			if err != nil {
				if r.op == ">&" && r.fd == 1 { // >&file is &>file in ash
					w, err := s.openOut(fr, sio, target, false)
					if err != nil {
						return 1
					}
					fds[1], fds[2] = w, w
					continue
				}
				s.errf(fr, sio, "", "%s: bad number", target)
				return 2
			}
			w, ok := fds[n]
			if !ok {
				if n == 0 {
					continue
				}
				s.errf(fr, sio, "", "%d: Bad file descriptor", n)
				return 1
			}
			fds[r.fd] = w
		case ">", ">>", "<>":
			w, err := s.openOut(fr, sio, target, r.op == ">>")
			if err != nil {
				return 1
			}
			fds[r.fd] = w
		case "<":
			_, n, err := s.fs.lookup(s.cwd, target, true)
			if err == nil && n.isDir() {
				err = errIsDir
			}
			if err != nil {
				s.errf(fr, sio, "", "can't open %s: %s", target, ashErrMsg(err, "no such file"))
				return 1
			}
			if r.fd == 0 {
				in = &input{data: s.readAll(n)}
			}
		}
	}
	out, errw := fds[1], fds[2]
	if out == nil {
		out = io.Discard
	}
	if errw == nil {
		errw = io.Discard
	}
	return f(stdio{in: in, out: out, err: errw})
}

// ashErrMsg is ash's errmsg(): ENOENT and ENOTDIR get a shell-specific
// text, other errors their strerror.
func ashErrMsg(err error, enoent string) string {
	if err == errNoEnt || err == errNotDir {
		return enoent
	}
	return err.Error()
}

type fileWriter struct {
	s    *Shell
	n    *node
	path string
	err  error
}

func (w *fileWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if err := w.s.fs.write(w.n, b); err != nil {
		w.err = err
		return 0, err
	}
	return len(b), nil
}

func (s *Shell) openOut(fr *frame, sio stdio, target string, appendTo bool) (io.Writer, error) {
	p, n, err := s.fs.create(s.cwd, target, appendTo)
	if err != nil {
		s.errf(fr, sio, "", "can't create %s: %s", target, ashErrMsg(err, "nonexistent directory"))
		return nil, err
	}
	if n.dev == devTTY {
		return sio.out, nil
	}
	if n.dev == devNone && !n.proc {
		s.noteWrite(n)
	}
	return &fileWriter{s: s, n: n, path: p}, nil
}

// noteWrite records the current input line as one that built the file.
func (s *Shell) noteWrite(n *node) {
	n.ncmds++
	if len(n.cmds) > 0 && n.cmds[len(n.cmds)-1] == s.curLine {
		return
	}
	const keep = 50
	if len(n.cmds) < 2*keep {
		n.cmds = append(n.cmds, s.curLine)
		return
	}
	// keep the first and the last 50
	copy(n.cmds[keep:], n.cmds[keep+1:])
	n.cmds[len(n.cmds)-1] = s.curLine
}

// readAll returns a node's content; devices give a bounded amount.
func (s *Shell) readAll(n *node) []byte {
	switch n.dev {
	case devZero:
		return make([]byte, 4096)
	case devRandom:
		b := make([]byte, 4096)
		s.rnd.Read(b)
		return b
	case devNull, devTTY:
		return nil
	}
	return n.content()
}
