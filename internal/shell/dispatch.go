package shell

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// call is one command invocation.
type call struct {
	ctx  context.Context
	fr   *frame
	args []string
	stdio
}

// errf prints an applet error: "name: message".
func (c *call) errf(format string, a ...any) {
	fmt.Fprintf(c.err, c.args[0]+": "+format+"\n", a...)
}

// shErr prints a shell builtin error: "-sh: name: message".
func (s *Shell) shErr(c *call, format string, a ...any) {
	fmt.Fprintf(c.err, c.fr.prefix(c.args[0])+format+"\n", a...)
}

type cmdFunc func(s *Shell, c *call) int

// builtins are ash's own commands: found before PATH is searched.
var builtins map[string]cmdFunc

// applets are BusyBox applets; one runs only if the profile's busybox has
// it.
var applets map[string]cmdFunc

func init() {
	builtins = map[string]cmdFunc{
		"cd": cmdCd, "pwd": cmdPwd, "echo": cmdEcho, "printf": cmdPrintf, "export": cmdExport,
		"exit": cmdExit, "logout": cmdExit, "true": cmdTrue, ":": cmdTrue, "false": cmdFalse,
		"read": cmdRead, "test": cmdTest, "[": cmdTest, "[[": cmdTest, "set": cmdSet, "unset": cmdUnset,
		"shift": cmdShift, "history": cmdHistory, "kill": cmdKill, "type": cmdType,
		"exec": cmdExec, "eval": cmdEval, ".": cmdSource, "source": cmdSource, "break": cmdBreak,
		"continue": cmdContinue, "return": cmdReturn, "umask": cmdUmask, "ulimit": cmdUlimit,
		"wait": cmdTrue, "trap": cmdTrue, "alias": cmdTrue, "unalias": cmdTrue, "hash": cmdTrue,
		"local": cmdLocal, "command": cmdCommand, "readonly": cmdExport, "times": cmdTimes,
		"help": cmdHelp,
	}
	applets = map[string]cmdFunc{}
	for k, v := range fsApplets {
		applets[k] = v
	}
	for k, v := range textApplets {
		applets[k] = v
	}
	for k, v := range sysApplets {
		applets[k] = v
	}
	for k, v := range netApplets {
		applets[k] = v
	}
	applets["sh"] = cmdSh
	applets["ash"] = cmdSh
	applets["busybox"] = cmdBusybox
}

func (s *Shell) hasApplet(name string) bool {
	if s.applets != nil {
		return s.applets[name] || name == "busybox"
	}
	for _, a := range s.prof.BusyBox.Applets {
		if a == name {
			return true
		}
	}
	return name == "busybox"
}

func (s *Shell) dispatch(ctx context.Context, fr *frame, args []string, io stdio) int {
	name := args[0]
	c := &call{ctx: ctx, fr: fr, args: args, stdio: io}
	if strings.Contains(name, "/") {
		return s.runPath(c, name)
	}
	if body, ok := s.funcs[name]; ok {
		return s.runFunc(ctx, fr, body, args, io)
	}
	if b, ok := builtins[name]; ok {
		return b(s, c)
	}
	if p := s.lookPath(name); p != "" {
		return s.runPath(c, p)
	}
	s.errf(fr, io, "", "%s: not found", name)
	return 127
}

// lookPath searches PATH in the VFS; "" if not found.
func (s *Shell) lookPath(name string) string {
	for _, dir := range strings.Split(s.vars["PATH"], ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		if !path.IsAbs(p) {
			p = path.Join(s.cwd, p)
		}
		if _, n, err := s.fs.lookup(s.cwd, p, true); err == nil && !n.isDir() && n.mode&0o111 != 0 {
			return p
		}
	}
	return ""
}

// runPath runs the file at p: a BusyBox applet link, an ELF binary or a
// shell script.
func (s *Shell) runPath(c *call, p string) int {
	rp, n, err := s.fs.lookup(s.cwd, p, true)
	if err != nil {
		if err == errNoEnt || err == errNotDir {
			s.errf(c.fr, c.stdio, "", "%s: not found", p)
			return 127
		}
		s.errf(c.fr, c.stdio, "", "%s: %s", p, err)
		return 126
	}
	if n.isDir() || n.mode&0o111 == 0 || n.dev != devNone {
		s.errf(c.fr, c.stdio, "", "%s: Permission denied", p)
		return 126
	}
	if rp == "/bin/busybox" {
		return s.runApplet(c, path.Base(c.args[0]))
	}
	data := s.readAll(n)
	if bytes.HasPrefix(data, []byte("\x7fELF")) {
		return s.execELF(c, rp, n, data)
	}
	trigger := "exec"
	s.maybeSample(c.ctx, rp, n, trigger)
	return s.runScript(c, p, data, c.args[1:])
}

// runApplet runs BusyBox applet name (argv[0] is kept for messages).
func (s *Shell) runApplet(c *call, name string) int {
	if name == "busybox" {
		return cmdBusybox(s, c)
	}
	if !s.hasApplet(name) {
		fmt.Fprintf(c.err, "%s: applet not found\n", name)
		return 127
	}
	c.args = append([]string{name}, c.args[1:]...)
	if f, ok := builtins[name]; ok {
		return f(s, c)
	}
	if f, ok := applets[name]; ok {
		return f(s, c)
	}
	// An applet of the device that this emulation does not model does
	// nothing visible.
	return 0
}

// execELF "runs" a binary: it is reported as a sample, and the shell prints
// what the device would: nothing if the binary is for its CPU, otherwise
// ash's attempt to read it as a script.
func (s *Shell) execELF(c *call, rp string, n *node, data []byte) int {
	s.maybeSample(c.ctx, rp, n, "exec")
	img := s.prof.BusyBoxImage()
	if len(data) >= 20 && elfMachine(data) == elfMachine(img) && data[4] == img[4] && data[5] == img[5] {
		s.newPID()
		return 0
	}
	fmt.Fprintf(c.err, "%s: line 1: syntax error: unexpected \"(\"\n", c.args[0])
	return 2
}

func elfMachine(b []byte) uint16 {
	if b[5] == 2 {
		return uint16(b[18])<<8 | uint16(b[19])
	}
	return uint16(b[19])<<8 | uint16(b[18])
}

// runScript runs data as a shell script named name.
func (s *Shell) runScript(c *call, name string, data []byte, args []string) int {
	if c.fr.depth+1 > s.lim.MaxDepth {
		s.errf(c.fr, c.stdio, "", "can't fork: Resource temporarily unavailable")
		return 2
	}
	fr := &frame{name: name, script: true, args: append([]string{name}, args...), depth: c.fr.depth + 1}
	l, err := parse(string(data), s.lim.MaxDepth*4)
	if err != nil {
		fmt.Fprintf(c.err, "%s: line %d: %v\n", name, bytes.Count(data, []byte("\n"))+1, err)
		return 2
	}
	st := s.runScriptList(c.ctx, fr, l, c.stdio)
	if fr.exit {
		return fr.exitCode
	}
	return st
}

func (s *Shell) runScriptList(ctx context.Context, fr *frame, l *list, io stdio) int {
	st := 0
	for _, item := range l.items {
		if s.aborted(ctx) || fr.exit {
			break
		}
		if sc := firstSimple(item); sc != nil {
			fr.line = sc.line
		}
		st = s.runAndOr(ctx, fr, item, io)
		s.status = st
		fr.brk, fr.cont = 0, 0
	}
	return st
}

func firstSimple(ao *andOr) *simpleCmd {
	if len(ao.pipes) > 0 && len(ao.pipes[0].cmds) > 0 {
		if sc, ok := ao.pipes[0].cmds[0].(*simpleCmd); ok {
			return sc
		}
	}
	return nil
}

// cmdSh is sh/ash: -c STRING, a script file, or a script on stdin.
func cmdSh(s *Shell, c *call) int {
	args := c.args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-c" && args[0] != "-" {
		args = args[1:] // -x, -e, -l, -i: accepted
	}
	if len(args) > 0 && args[0] == "-c" {
		if len(args) < 2 {
			fmt.Fprintf(c.err, "%s: -c requires an argument\n", c.args[0])
			return 2
		}
		if c.fr.depth+1 > s.lim.MaxDepth {
			s.errf(c.fr, c.stdio, "", "can't fork: Resource temporarily unavailable")
			return 2
		}
		name := "sh"
		pos := []string{name}
		if len(args) > 2 {
			pos = args[2:]
		}
		fr := &frame{name: pos[0], args: pos, depth: c.fr.depth + 1}
		l, err := parse(args[1], s.lim.MaxDepth*4)
		if err != nil {
			fmt.Fprintf(c.err, "%s: %v\n", fr.name, err)
			return 2
		}
		st := s.runList(c.ctx, fr, l, c.stdio)
		if fr.exit {
			return fr.exitCode
		}
		return st
	}
	if len(args) > 0 && args[0] != "-" {
		rp, n, err := s.fs.lookup(s.cwd, args[0], true)
		if err == nil && n.isDir() {
			err = errIsDir
		}
		if err != nil {
			fmt.Fprintf(c.err, "%s: can't open '%s': %s\n", c.args[0], args[0], err)
			return 2
		}
		data := s.readAll(n)
		s.maybeSample(c.ctx, rp, n, "sh")
		if bytes.HasPrefix(data, []byte("\x7fELF")) {
			fmt.Fprintf(c.err, "%s: line 1: syntax error: unexpected \"(\"\n", args[0])
			return 2
		}
		return s.runScript(c, args[0], data, args[1:])
	}
	// script on stdin (wget -O- … | sh)
	if c.in == nil {
		return 0 // an interactive subshell: nothing to do until it exits
	}
	data := c.in.rest()
	if len(bytes.TrimSpace(data)) > 0 {
		s.sampleData(c.ctx, "", data, "", nil, "sh")
	}
	return s.runScript(c, "sh", data, nil)
}

// modeString renders a file mode the way ls -l does.
func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m&fs.ModeDir != 0:
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	if m&fs.ModeSticky != 0 {
		if b[9] == 'x' {
			b[9] = 't'
		} else {
			b[9] = 'T'
		}
	}
	return string(b)
}

// runFunc calls a shell function with its own positional parameters.
func (s *Shell) runFunc(ctx context.Context, fr *frame, body command, args []string, io stdio) int {
	if fr.depth+1 > s.lim.MaxDepth {
		s.errf(fr, io, "", "can't fork: Resource temporarily unavailable")
		return 2
	}
	sub := *fr
	sub.args = append([]string{fr.args[0]}, args[1:]...)
	sub.depth++
	sub.exit, sub.ret, sub.brk, sub.cont = false, false, 0, 0
	st := s.runCommand(ctx, &sub, body, io)
	if sub.exit {
		st = sub.exitCode
		if !sub.ret {
			fr.exit, fr.exitCode = true, sub.exitCode
		}
	}
	return st
}
