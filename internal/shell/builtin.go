package shell

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// bbErr prints the error of a BusyBox applet that ash runs as a builtin
// (echo, printf, kill, test): BusyBox prefixes it with applet_name, which
// is "sh" inside the shell whatever argv[0] was.
func bbErr(c *call, builtin bool, format string, a ...any) {
	name := c.args[0]
	if builtin {
		name = "sh"
	}
	fmt.Fprintf(c.err, name+": "+format+"\n", a...)
}

func cmdTrue(*Shell, *call) int  { return 0 }
func cmdFalse(*Shell, *call) int { return 1 }

func cmdCd(s *Shell, c *call) int {
	dir := ""
	args := c.args[1:]
	for len(args) > 0 && (args[0] == "-L" || args[0] == "-P") {
		args = args[1:]
	}
	if len(args) > 0 {
		dir = args[0]
	}
	switch dir {
	case "":
		dir = s.vars["HOME"]
		if dir == "" {
			return 0
		}
	case "-":
		dir = s.vars["OLDPWD"]
		if dir == "" {
			dir = s.cwd
		}
		defer fmt.Fprintln(c.out, s.cwd)
	}
	rp, n, err := s.fs.lookup(s.cwd, dir, true)
	if err == nil && !n.isDir() {
		err = errNotDir
	}
	if err != nil {
		s.shErr(c, "can't cd to %s: %s", dir, err)
		return 2
	}
	// ash keeps the logical path (through symlinks)
	logical := dir
	if !path.IsAbs(logical) {
		logical = path.Join(s.cwd, logical)
	}
	logical = path.Clean(logical)
	if _, ln, err := s.fs.lookup("/", logical, true); err != nil || ln != n {
		logical = rp
	}
	s.vars["OLDPWD"] = s.cwd
	s.cwd = logical
	s.vars["PWD"] = logical
	return 0
}

func cmdPwd(s *Shell, c *call) int {
	fmt.Fprintln(c.out, s.cwd)
	return 0
}

func cmdEcho(s *Shell, c *call) int {
	args := c.args[1:]
	nl, esc := true, false
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' || strings.Trim(a[1:], "neE") != "" {
			break
		}
		for _, f := range a[1:] {
			switch f {
			case 'n':
				nl = false
			case 'e':
				esc = true
			case 'E':
				esc = false
			}
		}
		args = args[1:]
	}
	// Droppers run echo hundreds of times a session: build the output in
	// the shell's scratch buffer (writers do not keep what they are given).
	b := s.scratch[:0]
	defer func() {
		if cap(b) <= 64<<10 {
			s.scratch = b[:0]
		}
	}()
	stop := false
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if esc {
			b, stop = appendEscapes(b, a, true)
			if stop {
				break
			}
		} else {
			b = append(b, a...)
		}
	}
	if nl && !stop {
		b = append(b, '\n')
	}
	if _, err := c.out.Write(b); err != nil && err != errOutput {
		bbErr(c, c.args[0] == "echo", "write error: %s", err)
		return 1
	}
	return 0
}

// decodeEscapes decodes backslash escapes like BusyBox's
// bb_process_escape_sequence: \\ \a \b \e \f \n \r \t \v, \NNN octal (up
// to three digits; with echo a leading 0 allows \0NNN), \xHH. \c stops
// all output (stop = true). Unknown escapes are kept as is.
func decodeEscapes(s string, echo bool) (out []byte, stop bool) {
	return appendEscapes(make([]byte, 0, len(s)), s, echo)
}

// appendEscapes is decodeEscapes appending to out.
func appendEscapes(out []byte, s string, echo bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		// Plain text up to the next backslash goes in at once.
		j := strings.IndexByte(s[i:], '\\')
		if j < 0 {
			return append(out, s[i:]...), false
		}
		out = append(out, s[i:i+j]...)
		if i += j; i+1 >= len(s) {
			return append(out, '\\'), false // a trailing backslash is kept
		}
		i++
		switch e := s[i]; e {
		case 'c':
			return out, true
		case '\\':
			out = append(out, '\\')
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'e':
			out = append(out, 27)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1+n < len(s) && isHex(s[i+1+n]) {
				v = v*16 + hexVal(s[i+1+n])
				n++
			}
			if n == 0 {
				out = append(out, '\\', 'x')
				continue
			}
			out = append(out, byte(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			if echo && e == '0' && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '7' {
				j++
			}
			v, n := 0, 0
			for n < 3 && j+n < len(s) && s[j+n] >= '0' && s[j+n] <= '7' {
				v = v*8 + int(s[j+n]-'0')
				n++
			}
			out = append(out, byte(v))
			i = j + n - 1
		default:
			out = append(out, '\\', e)
		}
	}
	return out, false
}

func isHex(c byte) bool { return hexDigit[c] >= 0 }

func hexVal(c byte) int { return int(hexDigit[c]) }

// hexDigit maps a byte to its hex value, or -1; a table because dropper
// lines are hundreds of \xHH escapes each.
var hexDigit = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < 10; i++ {
		t['0'+i] = int8(i)
	}
	for i := 0; i < 6; i++ {
		t['a'+i], t['A'+i] = int8(10+i), int8(10+i)
	}
	return t
}()

func cmdExport(s *Shell, c *call) int {
	args := c.args[1:]
	if len(args) > 0 && args[0] == "-p" {
		args = args[1:]
	}
	if len(args) == 0 {
		var names []string
		for k := range s.exported {
			if _, ok := s.vars[k]; ok {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(c.out, "%s %s='%s'\n", c.args[0], k, strings.ReplaceAll(s.vars[k], "'", `'"'"'`))
		}
		return 0
	}
	for _, a := range args {
		name, val, has := strings.Cut(a, "=")
		if !validName(name) {
			s.shErr(c, "bad variable name '%s'", name)
			return 2
		}
		if has {
			s.setVar(name, val)
		}
		s.exported[name] = true
	}
	return 0
}

func cmdLocal(s *Shell, c *call) int {
	for _, a := range c.args[1:] {
		name, val, has := strings.Cut(a, "=")
		if validName(name) && has {
			s.setVar(name, val)
		}
	}
	return 0
}

func cmdUnset(s *Shell, c *call) int {
	for _, a := range c.args[1:] {
		if a == "-v" || a == "-f" {
			continue
		}
		s.setVar(a, "")
		delete(s.vars, a)
		delete(s.exported, a)
	}
	return 0
}

func cmdSet(s *Shell, c *call) int {
	if len(c.args) == 1 {
		names := make([]string, 0, len(s.vars))
		for k := range s.vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(c.out, "%s='%s'\n", k, s.vars[k])
		}
		return 0
	}
	args := c.args[1:]
	if args[0] == "--" {
		c.fr.args = append([]string{c.fr.args[0]}, args[1:]...)
	}
	return 0
}

func cmdShift(s *Shell, c *call) int {
	n := 1
	if len(c.args) > 1 {
		n, _ = strconv.Atoi(c.args[1])
	}
	if n > len(c.fr.args)-1 {
		s.shErr(c, "can't shift that many")
		return 2
	}
	c.fr.args = append([]string{c.fr.args[0]}, c.fr.args[1+n:]...)
	return 0
}

func cmdExit(s *Shell, c *call) int {
	code := s.status
	if len(c.args) > 1 {
		n, err := strconv.Atoi(c.args[1])
		if err != nil {
			s.shErr(c, "Illegal number: %s", c.args[1])
			return 2
		}
		code = n & 0xff
	}
	c.fr.exit = true
	c.fr.exitCode = code
	return code
}

func cmdReturn(s *Shell, c *call) int {
	code := s.status
	if len(c.args) > 1 {
		code, _ = strconv.Atoi(c.args[1])
	}
	if c.fr.depth > 0 {
		c.fr.exit, c.fr.ret = true, true
		c.fr.exitCode = code & 0xff
	}
	return code & 0xff
}

func cmdBreak(s *Shell, c *call) int {
	n := 1
	if len(c.args) > 1 {
		n, _ = strconv.Atoi(c.args[1])
	}
	if n < 1 {
		n = 1
	}
	c.fr.brk = n
	return 0
}

func cmdContinue(s *Shell, c *call) int {
	n := 1
	if len(c.args) > 1 {
		n, _ = strconv.Atoi(c.args[1])
	}
	if n < 1 {
		n = 1
	}
	c.fr.cont = n
	return 0
}

func cmdRead(s *Shell, c *call) int {
	args := c.args[1:]
	raw := false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-r":
			raw = true
		case "-p", "-t", "-n", "-u":
			if len(args) > 1 {
				args = args[1:]
			}
		}
		args = args[1:]
	}
	line, ok := c.in.readLine()
	if !raw {
		line = strings.ReplaceAll(line, "\\", "")
	}
	if len(args) == 0 {
		args = []string{"REPLY"}
	}
	fields := strings.Fields(line)
	for i, name := range args {
		v := ""
		switch {
		case i == len(args)-1 && i < len(fields):
			// the last variable takes the rest of the line
			rest := strings.TrimLeft(line, " \t")
			for j := 0; j < i; j++ {
				rest = strings.TrimLeft(rest[len(fields[j]):], " \t")
			}
			v = strings.TrimRight(rest, " \t")
		case i < len(fields):
			v = fields[i]
		}
		if validName(name) {
			s.setVar(name, v)
		}
	}
	if !ok {
		return 1
	}
	return 0
}

func cmdHistory(s *Shell, c *call) int {
	for i, h := range s.history {
		fmt.Fprintf(c.out, "%4d %s\n", i, h)
	}
	return 0
}

func cmdType(s *Shell, c *call) int {
	st := 0
	for _, a := range c.args[1:] {
		switch {
		case builtins[a] != nil:
			fmt.Fprintf(c.out, "%s is a shell builtin\n", a)
		case reserved[a]:
			fmt.Fprintf(c.out, "%s is a shell keyword\n", a)
		default:
			if p := s.lookPath(a); p != "" {
				fmt.Fprintf(c.out, "%s is %s\n", a, p)
			} else {
				fmt.Fprintf(c.out, "%s: not found\n", a)
				st = 127
			}
		}
	}
	return st
}

func cmdCommand(s *Shell, c *call) int {
	args := c.args[1:]
	if len(args) > 0 && (args[0] == "-v" || args[0] == "-V") {
		st := 1
		for _, a := range args[1:] {
			if builtins[a] != nil {
				fmt.Fprintln(c.out, a)
				st = 0
			} else if p := s.lookPath(a); p != "" {
				fmt.Fprintln(c.out, p)
				st = 0
			}
		}
		return st
	}
	if len(args) == 0 {
		return 0
	}
	return s.dispatch(c.ctx, c.fr, args, c.stdio)
}

func cmdExec(s *Shell, c *call) int {
	if len(c.args) == 1 {
		return 0
	}
	st := s.dispatch(c.ctx, c.fr, c.args[1:], c.stdio)
	c.fr.exit = true
	c.fr.exitCode = st
	return st
}

func cmdEval(s *Shell, c *call) int {
	src := strings.Join(c.args[1:], " ")
	if c.fr.depth+1 > s.lim.MaxDepth {
		s.errf(c.fr, c.stdio, "", "can't fork: Resource temporarily unavailable")
		return 2
	}
	l, err := parse(src, s.lim.MaxDepth*4)
	if err != nil {
		s.errf(c.fr, c.stdio, "", "%v", err)
		return 2
	}
	c.fr.depth++
	defer func() { c.fr.depth-- }()
	return s.runList(c.ctx, c.fr, l, c.stdio)
}

func cmdSource(s *Shell, c *call) int {
	if len(c.args) < 2 {
		return 0
	}
	rp, n, err := s.fs.lookup(s.cwd, c.args[1], true)
	if err == nil && n.isDir() {
		err = errIsDir
	}
	if err != nil {
		s.shErr(c, "%s: not found", c.args[1])
		return 2
	}
	s.maybeSample(c.ctx, rp, n, "sh")
	if c.fr.depth+1 > s.lim.MaxDepth {
		s.errf(c.fr, c.stdio, "", "can't fork: Resource temporarily unavailable")
		return 2
	}
	l, perr := parse(string(s.readAll(n)), s.lim.MaxDepth*4)
	if perr != nil {
		s.errf(c.fr, c.stdio, "", "%v", perr)
		return 2
	}
	c.fr.depth++
	defer func() { c.fr.depth-- }()
	return s.runList(c.ctx, c.fr, l, c.stdio)
}

func cmdUmask(s *Shell, c *call) int {
	if len(c.args) == 1 {
		fmt.Fprintln(c.out, "0022")
	}
	return 0
}

func cmdUlimit(s *Shell, c *call) int {
	if len(c.args) == 1 || c.args[1] == "-f" {
		fmt.Fprintln(c.out, "unlimited")
		return 0
	}
	if c.args[1] != "-a" {
		return 0 // setting a limit: accepted
	}
	// The kernel's defaults for the device: process and pending-signal
	// limits are max_threads/2, max_threads being RAM pages / 16.
	threads := strconv.Itoa(s.prof.Memory.TotalKB / 128)
	lockKB := "64"
	if kernelAtLeast(s.prof.Uname.Release, 5, 16) {
		lockKB = "8192"
	}
	for _, l := range [][3]string{
		{"core file size (blocks)", "c", "0"}, {"data seg size (kb)", "d", "unlimited"}, {"scheduling priority", "e", "0"},
		{"file size (blocks)", "f", "unlimited"}, {"pending signals", "i", threads}, {"max locked memory (kb)", "l", lockKB},
		{"max memory size (kb)", "m", "unlimited"}, {"open files", "n", "1024"}, {"POSIX message queues (bytes)", "q", "819200"},
		{"real-time priority", "r", "0"}, {"stack size (kb)", "s", "8192"}, {"cpu time (seconds)", "t", "unlimited"},
		{"max user processes", "u", threads}, {"virtual memory (kb)", "v", "unlimited"}, {"file locks", "x", "unlimited"},
	} {
		fmt.Fprintf(c.out, "%-32s(-%s) %s\n", l[0], l[1], l[2])
	}
	return 0
}

// kernelAtLeast compares a uname release ("3.18.20", "4.14.24-qnap") with
// major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	var a, b int
	fmt.Sscanf(release, "%d.%d", &a, &b)
	return a > major || a == major && b >= minor
}

func cmdTimes(s *Shell, c *call) int {
	fmt.Fprintln(c.out, "0m0.010000s 0m0.020000s\n0m0.000000s 0m0.000000s")
	return 0
}

// ashBuiltins is BusyBox ash's builtintab as `help` lists it.
var ashBuiltins = strings.Fields(". : [ [[ alias bg break cd chdir command continue echo eval exec exit export false fg getopts hash help history jobs kill let local printf pwd read readonly return set shift source test times trap true type ulimit umask unalias unset wait")

func cmdHelp(s *Shell, c *call) int {
	var b strings.Builder
	b.WriteString("Built-in commands:\n------------------\n")
	col := 0
	for _, n := range ashBuiltins {
		sep := " "
		if col == 0 {
			sep = "\t"
		}
		b.WriteString(sep + n)
		col += 1 + len(n)
		if col > 60 {
			b.WriteString("\n")
			col = 0
		}
	}
	b.WriteString("\n\n")
	fmt.Fprint(c.out, b.String())
	return 0
}
