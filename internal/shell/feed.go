package shell

import (
	"bytes"
	"context"
	"io"
)

// pendingInput is a command line waiting for its terminal input: `cat >
// file` or `while read` with no redirection reads the lines that follow.
type pendingInput struct {
	items []*andOr
	fr    *frame
	line  string
	data  []byte
}

// Pending reports whether the shell is collecting terminal input for a
// command (cat > f, while read …) started by the last Exec. While it is,
// the sensor passes the raw bytes the client types to Feed instead of
// calling Exec.
func (s *Shell) Pending() bool { return s.pending != nil }

// Feed gives terminal input to the pending command. Input ends at ^D (EOT,
// 0x04); the command then runs with everything before it as its standard
// input, followed by the rest of its command line. ^C (0x03) abandons the
// command line. Feed returns true when the shell is back at its prompt.
// Without a pending command it does nothing and returns true. Input beyond
// Limits.MaxFileBytes is dropped.
func (s *Shell) Feed(ctx context.Context, data []byte, out io.Writer) bool {
	p := s.pending
	if p == nil {
		return true
	}
	if i := bytes.IndexByte(data, 3); i >= 0 {
		s.pending = nil
		s.status = 130
		return true
	}
	i := bytes.IndexByte(data, 4)
	chunk := data
	if i >= 0 {
		chunk = data[:i]
	}
	room := s.lim.MaxFileBytes - int64(len(p.data))
	if int64(len(chunk)) > room {
		chunk = chunk[:max(room, 0)]
	}
	p.data = append(p.data, chunk...)
	if i < 0 {
		return false
	}
	s.pending = nil
	s.outLeft = s.lim.MaxOutputBytes
	s.steps = 0
	s.curLine = p.line
	tw := &termWriter{s: s, w: out}
	io := stdio{out: tw, err: tw, in: &input{data: p.data}}
	for k, item := range p.items {
		if k > 0 {
			io.in = nil
			if needsTerminal(item) {
				s.pending = &pendingInput{items: p.items[k:], fr: p.fr, line: p.line}
				return false
			}
		}
		s.status = s.runAndOr(ctx, p.fr, item, io)
		if p.fr.exit {
			s.exited = true
			break
		}
		if s.aborted(ctx) {
			break
		}
	}
	return true
}

// needsTerminal reports whether an input line item reads the terminal:
// its first command is cat (or dd) without input files or redirection, or
// a while/until loop whose condition is a bare read.
func needsTerminal(ao *andOr) bool {
	if len(ao.pipes) == 0 || len(ao.pipes[0].cmds) == 0 {
		return false
	}
	switch c := ao.pipes[0].cmds[0].(type) {
	case *simpleCmd:
		if hasInputRedir(c.redirs) || len(c.args) == 0 {
			return false
		}
		name, ok := c.args[0].literal()
		if !ok {
			return false
		}
		switch name {
		case "cat":
			for _, a := range c.args[1:] {
				if t, ok := a.literal(); !ok || t != "-" && (len(t) == 0 || t[0] != '-') {
					return false
				}
			}
			return true
		case "read":
			return true
		}
	case *loopCmd:
		if hasInputRedir(c.redirs) || len(c.cond.items) != 1 {
			return false
		}
		if sc := firstSimple(c.cond.items[0]); sc != nil && len(sc.args) > 0 && !hasInputRedir(sc.redirs) {
			name, _ := sc.args[0].literal()
			return name == "read"
		}
	}
	return false
}

func hasInputRedir(rs []*redir) bool {
	for _, r := range rs {
		if r.fd == 0 {
			return true
		}
	}
	return false
}
