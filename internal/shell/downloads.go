package shell

import (
	"encoding/base64"
	"path"
	"slices"
	"strings"
)

// Download is one fetch that a command line names.
type Download struct {
	Tool string `json:"tool"` // wget, curl, tftp, ftpget
	URL  string `json:"url"`
}

// Bounds on what Downloads examines, whatever the script.
const (
	maxDownloads     = 64
	maxExtractDepth  = 8     // nesting of sh -c, eval, $(...), base64 | sh
	maxExtractSteps  = 20000 // commands visited
	maxExtractBytes  = 1 << 20
	maxLoopItems     = 64
	maxExtractFields = 256
)

// Downloads parses src with the shell's parser and returns every download
// its commands name, on every path through it: both sides of && and ||,
// every branch of if and case, every item of a for loop (so a dropper
// script that fetches one binary per architecture yields them all), the
// scripts of sh -c and eval, command substitutions, and
// "echo … | base64 -d | sh". Variables the script assigns are followed;
// values only a run would know ($(uname -m), read) expand to "". Nothing
// runs and nothing is fetched. Lines that do not parse (bots send cut
// lines) are tried one by one.
func Downloads(src string) []Download { return Scan(src).Downloads }

// Script is what Scan finds in a script without running it.
type Script struct {
	Downloads []Download
	// Commands are the distinct command names it runs (after busybox,
	// nohup and similar wrappers), in order of appearance.
	Commands []string
}

// Scan is Downloads that also lists the commands the script runs, so a
// caller can tell an injected command line from a field's plain text.
func Scan(src string) Script {
	if len(src) > maxExtractBytes {
		src = src[:maxExtractBytes]
	}
	x := &extractor{vars: map[string]string{}, seen: map[string]bool{}}
	x.script(src, 0)
	return Script{Downloads: x.out, Commands: x.names}
}

type extractor struct {
	vars  map[string]string
	out   []Download
	seen  map[string]bool
	names []string
	steps int
}

func (x *extractor) add(tool, u string) {
	if u == "" || x.seen[u] || len(x.out) >= maxDownloads {
		return
	}
	x.seen[u] = true
	x.out = append(x.out, Download{Tool: tool, URL: u})
}

func (x *extractor) script(src string, depth int) {
	if depth > maxExtractDepth || x.steps > maxExtractSteps {
		return
	}
	if l, err := parse(src, DefaultLimits.MaxDepth); err == nil {
		x.list(l, depth)
		return
	}
	for _, line := range strings.Split(src, "\n") {
		if l, err := parse(line, DefaultLimits.MaxDepth); err == nil {
			x.list(l, depth)
		}
	}
}

func (x *extractor) list(l *list, depth int) {
	if l == nil {
		return
	}
	for _, ao := range l.items {
		for _, p := range ao.pipes {
			x.pipeline(p, depth)
		}
	}
}

// pipeline visits each command, and follows data piped into a shell:
// echo/printf output, through base64 -d, into sh.
func (x *extractor) pipeline(p *pipeline, depth int) {
	feed, fed := "", false
	for _, c := range p.cmds {
		x.command(c, depth)
		sc, ok := c.(*simpleCmd)
		if !ok {
			fed = false
			continue
		}
		args := unwrap(x.fields(sc.args, depth))
		if len(args) == 0 {
			fed = false
			continue
		}
		switch path.Base(args[0]) {
		case "echo":
			feed, fed = echoText(args[1:]), true
		case "printf":
			if len(args) > 1 {
				out, _ := formatPrintf(args[1], args[2:], func([]byte, string) {})
				feed, fed = string(out), true
			}
		case "base64":
			if fed && (hasArg(args, "-d") || hasArg(args, "--decode")) {
				feed = decodeBase64(feed)
			}
		case "sh", "ash", "bash":
			if fed && len(args) == 1 {
				x.script(feed, depth+1)
			}
			fed = false
		default:
			fed = false
		}
	}
}

func (x *extractor) command(c command, depth int) {
	if x.steps++; x.steps > maxExtractSteps {
		return
	}
	switch c := c.(type) {
	case *simpleCmd:
		x.simple(c, depth)
	case *ifCmd:
		for i := range c.conds {
			x.list(c.conds[i], depth)
			x.list(c.bodies[i], depth)
		}
		x.list(c.els, depth)
	case *loopCmd:
		x.list(c.cond, depth)
		x.list(c.body, depth)
	case *forCmd:
		items := x.fields(c.items, depth)
		if len(items) > maxLoopItems {
			items = items[:maxLoopItems]
		}
		if len(items) == 0 {
			items = []string{""}
		}
		old, had := x.vars[c.name]
		for _, it := range items {
			x.vars[c.name] = it
			x.list(c.body, depth)
		}
		if had {
			x.vars[c.name] = old
		} else {
			delete(x.vars, c.name)
		}
	case *groupCmd:
		x.list(c.body, depth)
	case *caseCmd:
		for _, it := range c.items {
			x.list(it.body, depth)
		}
	case *funcDef:
		x.command(c.body, depth)
	}
}

func (x *extractor) simple(c *simpleCmd, depth int) {
	for _, a := range c.assigns {
		v := x.fields([]*word{a.value}, depth)
		x.vars[a.name] = strings.Join(v, " ")
	}
	args := unwrap(x.fields(c.args, depth))
	if len(args) == 0 {
		return
	}
	tool := path.Base(args[0])
	if len(x.names) < maxDownloads && !slices.Contains(x.names, tool) {
		x.names = append(x.names, tool)
	}
	switch tool {
	case "wget":
		if h, r := optValue(args, "-g"), optValue(args, "-r"); h != "" && r != "" {
			// "busybox wget -g HOST -l LOCAL -r FILE": tftp's options
			// given to wget (Mirai's Huawei exploit); what it means to get
			// is FILE over HTTP from HOST.
			x.add(tool, "http://"+h+"/"+strings.TrimPrefix(r, "/"))
			return
		}
		for _, raw := range parseWget(args[1:]).urls {
			if u, err := wgetURL(raw); err == nil {
				x.add(tool, u.String())
			}
		}
	case "curl":
		for _, raw := range parseCurl(args[1:]).urls {
			if u, err := curlURL(raw); err == nil {
				x.add(tool, u.String())
			}
		}
	case "tftp":
		x.add(tool, parseTftp(args[1:]).url())
	case "ftpget":
		x.add(tool, parseFtpget(args[1:]).url)
	case "sh", "ash", "bash":
		if i := argIndex(args, "-c"); i > 0 && i+1 < len(args) {
			x.script(args[i+1], depth+1)
		}
	case "eval":
		x.script(strings.Join(args[1:], " "), depth+1)
	}
}

// fields expands words the way the shell would, as far as is known
// without running anything, with field splitting of unquoted expansions
// on blanks (so ${IFS} separates words).
func (x *extractor) fields(ws []*word, depth int) []string {
	var out []string
	var cur strings.Builder
	have := false
	flush := func() {
		if have {
			out = append(out, cur.String())
			cur.Reset()
			have = false
		}
	}
	for _, w := range ws {
		for _, p := range w.parts {
			var v string
			switch p.kind {
			case pLit:
				cur.WriteString(p.text)
				have = true
				continue
			case pParam:
				v = x.param(p, depth)
			case pCmd:
				x.script(p.text, depth+1)
				v = x.substOutput(p.text)
			}
			if p.quoted {
				cur.WriteString(v)
				have = true
				continue
			}
			if v != "" && isBlank(rune(v[0])) {
				flush()
			}
			for i, f := range strings.FieldsFunc(v, isBlank) {
				if i > 0 {
					flush()
				}
				cur.WriteString(f)
				have = true
			}
			if v != "" && isBlank(rune(v[len(v)-1])) {
				flush()
			}
		}
		flush()
		if len(out) > maxExtractFields {
			return out[:maxExtractFields]
		}
	}
	return out
}

func isBlank(r rune) bool { return r == ' ' || r == '\t' || r == '\n' }

func (x *extractor) param(p part, depth int) string {
	v, set := x.vars[p.text]
	if p.text == "IFS" && !set {
		v, set = " ", true
	}
	switch p.op {
	case "#":
		return ""
	case "-", ":-", "=", ":=":
		if !set || (v == "" && strings.HasPrefix(p.op, ":")) {
			if p.arg != nil {
				v = strings.Join(x.fields([]*word{p.arg}, depth), " ")
			}
		}
	case "+", ":+":
		if set && (v != "" || p.op == "+") && p.arg != nil {
			v = strings.Join(x.fields([]*word{p.arg}, depth), " ")
		} else {
			v = ""
		}
	}
	return v
}

// substOutput is what $(src) prints when that is known without running
// anything: the text of a lone echo.
func (x *extractor) substOutput(src string) string {
	l, err := parse(src, DefaultLimits.MaxDepth)
	if err != nil || len(l.items) != 1 || len(l.items[0].pipes) != 1 || len(l.items[0].pipes[0].cmds) != 1 {
		return ""
	}
	sc, ok := l.items[0].pipes[0].cmds[0].(*simpleCmd)
	if !ok {
		return ""
	}
	args := x.fields(sc.args, maxExtractDepth+1)
	if len(args) == 0 || args[0] != "echo" {
		return ""
	}
	return echoText(args[1:])
}

// unwrap drops the commands that run their arguments as a command:
// busybox, nohup, exec, command, env assignments, timeout N.
func unwrap(args []string) []string {
	for len(args) > 1 {
		switch path.Base(args[0]) {
		case "busybox", "nohup", "exec", "command", "sudo", "nice":
			args = args[1:]
		case "env":
			args = args[1:]
			for len(args) > 1 && strings.Contains(args[0], "=") {
				args = args[1:]
			}
		case "timeout":
			args = args[1:]
			if len(args) > 1 {
				args = args[1:]
			}
		default:
			return args
		}
	}
	return args
}

// echoText is echo's output (with -e escapes) without its newline.
func echoText(args []string) string {
	esc := false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		esc = esc || strings.Contains(args[0], "e")
		args = args[1:]
	}
	s := strings.Join(args, " ")
	if esc {
		b, _ := appendEscapes(nil, s, true)
		s = string(b)
	}
	return s
}

func decodeBase64(s string) string {
	s = strings.Map(func(r rune) rune {
		if isBlank(r) || r == '\r' {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b)
		}
	}
	return ""
}

func hasArg(args []string, a string) bool { return argIndex(args, a) > 0 }

func argIndex(args []string, a string) int {
	for i, v := range args {
		if i > 0 && v == a {
			return i
		}
	}
	return -1
}

func optValue(args []string, opt string) string {
	if i := argIndex(args, opt); i > 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}
