package shell

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// execCLI handles one line in the vendor CLI that some devices show
// before BusyBox: the profile's escape commands (enable, system, shell,
// linuxshell, sh, …) drop into the shell; exit/quit/logout end the
// session; anything else gets the vendor's error.
func (s *Shell) execCLI(ctx context.Context, line string, out io.Writer) {
	f := strings.Fields(line)
	if len(f) == 0 {
		s.status = 0
		return
	}
	cmd := strings.ToLower(f[0])
	for _, e := range s.prof.CLI.Escapes {
		if cmd == e {
			s.inCLI = false
			s.status = 0
			if s.prof.CLI.Banner != "" {
				io.WriteString(out, s.dev.Expand(s.prof.CLI.Banner))
			}
			return
		}
	}
	switch cmd {
	case "exit", "quit", "logout", "bye":
		s.exited = true
		return
	case "?", "help":
		fmt.Fprintf(out, "  %s\n", strings.Join(append([]string{"exit", "help", "show", "ping"}, s.prof.CLI.Escapes[:1]...), "\n  "))
		return
	}
	msg := s.prof.CLI.Unknown
	msg = strings.Replace(msg, "%s", f[0], 1)
	io.WriteString(out, strings.ReplaceAll(msg, "%%", "%")+"\n")
	s.status = 1
}
