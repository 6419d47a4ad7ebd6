// Package shell emulates the BusyBox ash shell of an IoT device for the
// telnet and SSH honeypots: a parser for what bots send, BusyBox's own
// command outputs and error texts, and a per-session copy-on-write virtual
// filesystem over the device profile. Downloads go through Hooks.Fetch;
// files that look like payloads (downloaded, or assembled by echo/printf/dd
// droppers) are reported through Hooks.Sample.
package shell

import (
	"context"
	"io"
	"math/rand"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

// Hooks are how the shell reaches the outside; the sensor implements them.
type Hooks interface {
	// Fetch downloads a URL for wget/curl/tftp/ftpget through the platform's bounded fetcher.
	// url is "http://…", "https://…", "tftp://host[:port]/file" or "ftp://[user:pass@]host[:port]/path".
	// tool is "wget", "curl", "tftp", "ftpget". It returns the body or an error (refused, timeout, …).
	Fetch(ctx context.Context, tool, url string) ([]byte, error)
	// Sample is called when a file that looks like a payload is complete: executed, chmod +x'd,
	// piped to sh, or still present when the session ends (Close). Called once per distinct content.
	Sample(ctx context.Context, s Sample)
}

// Sample is a captured payload.
type Sample struct {
	Path     string   // where it was in the VFS
	Data     []byte   // the content
	URL      string   // the download URL if it came from Fetch, else ""
	Commands []string // for droppers: the command lines that built it (first and last 50)
	Trigger  string   // "exec", "chmod", "sh", "session-end"
}

// Config configures one session's shell.
type Config struct {
	Device   *profile.Device
	Hooks    Hooks
	Username string // logged-in user (root, admin, …)
	Limits   Limits // zero value = sane defaults
	Now      func() time.Time
	Rand     *rand.Rand // deterministic in tests
	// Columns is the terminal width (from NAWS / the pty request); 0 = 80.
	Columns int
	// Sleep waits d or until ctx ends: `sleep`, and the pauses that pace
	// output at the device's rate. nil waits for real.
	Sleep func(ctx context.Context, d time.Duration)
	// OutputRate is how many bytes per second the device's terminal
	// delivers once a command's first OutputBurst bytes are out; 0 takes
	// the profile's shell.output_rate, negative disables pacing.
	OutputRate int
	// Memory, shared by the sessions of a process, bounds what their
	// files and pipes hold together; nil: only the per-session limits.
	Memory *MemBudget
}

// OutputBurst is how much of one command's output goes out at once before
// pacing starts: short answers come back as fast as from the device.
const OutputBurst = 4 << 10

// realSleep waits d or until ctx ends.
func realSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// defaultSleep is what a nil Config.Sleep means (the package's tests
// replace it so that `sleep 100` does not wait).
var defaultSleep = realSleep

// Limits bound what one session can make the shell do. Zero fields take
// the defaults in DefaultLimits.
type Limits struct {
	MaxFSBytes     int64 // bytes written to the VFS in the session
	MaxFileBytes   int64 // size of one file (also pipes and downloads)
	MaxOutputBytes int64 // output of one Exec
	MaxLineBytes   int   // one input line
	MaxDepth       int   // nesting of sh -c, $(...), scripts, parser
	MaxLoop        int   // loop iterations (and commands) per Exec
	// MaxSleep bounds the time one Exec spends in `sleep` and output
	// pacing; past it the command goes on without waiting.
	MaxSleep time.Duration
	// MaxBusy bounds the time one Exec keeps the CPU busy (waits for
	// sleep, pacing and downloads excluded); past it the line stops, as
	// when the step budget runs out.
	MaxBusy time.Duration
}

// DefaultLimits are used for zero fields of Config.Limits.
var DefaultLimits = Limits{
	MaxFSBytes:     32 << 20,
	MaxFileBytes:   16 << 20,
	MaxOutputBytes: 1 << 20,
	MaxLineBytes:   64 << 10,
	MaxDepth:       16,
	MaxLoop:        10000,
	MaxSleep:       60 * time.Second,
	MaxBusy:        DefaultMaxBusy,
}

const maxHistory = 1000

// Shell is one login session's shell. It is not safe for concurrent use.
type Shell struct {
	cfg     Config
	dev     *profile.Device
	prof    *profile.Profile
	lim     Limits
	now     func() time.Time
	scratch []byte          // echo's output buffer, reused
	applets map[string]bool // set with the filesystem; shared, read-only
	rnd     *rand.Rand

	fs       *vfs
	cwd      string
	vars     map[string]string
	exported map[string]bool
	status   int
	pid      int
	lastBG   int
	nextPID  int
	history  []string
	inCLI    bool
	exited   bool

	curLine string            // the input line being run (dropper bookkeeping)
	sampled map[string]bool   // sha256 of reported samples
	fetched map[string]string // sha256 of fetched bodies -> URL
	killed  map[int]bool
	funcs   map[string]command

	substRan bool // a command substitution ran in the current command
	varBytes int  // total size of variable values

	// per Exec
	outLeft   int64
	sleepLeft time.Duration
	steps     int
	pending   *pendingInput
	// heredoc holds the lines of a command whose here-document is not
	// finished yet (Exec collects them until its delimiter line).
	heredoc string
	// execStart and waited measure the Exec's busy time (MaxBusy).
	execStart time.Time
	waited    time.Duration
}

// New returns a shell for one session.
func New(cfg Config) *Shell {
	lim := cfg.Limits
	d := DefaultLimits
	if lim.MaxFSBytes <= 0 {
		lim.MaxFSBytes = d.MaxFSBytes
	}
	if lim.MaxFileBytes <= 0 {
		lim.MaxFileBytes = d.MaxFileBytes
	}
	if lim.MaxOutputBytes <= 0 {
		lim.MaxOutputBytes = d.MaxOutputBytes
	}
	if lim.MaxLineBytes <= 0 {
		lim.MaxLineBytes = d.MaxLineBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = d.MaxDepth
	}
	if lim.MaxLoop <= 0 {
		lim.MaxLoop = d.MaxLoop
	}
	if lim.MaxSleep <= 0 {
		lim.MaxSleep = d.MaxSleep
	}
	if lim.MaxBusy == 0 {
		lim.MaxBusy = d.MaxBusy // negative: no cap
	}
	if cfg.Sleep == nil {
		cfg.Sleep = defaultSleep
	}
	if cfg.OutputRate == 0 && cfg.Device != nil {
		cfg.OutputRate = cfg.Device.Profile.Shell.OutputRate
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewSource(cfg.Now().UnixNano()))
	}
	if cfg.Username == "" {
		cfg.Username = "root"
	}
	if cfg.Columns <= 0 {
		cfg.Columns = 80
	}
	dev := cfg.Device
	if dev == nil {
		dev = profile.Defaults()[0].Instantiate(nil)
	}
	s := &Shell{
		cfg: cfg, dev: dev, prof: dev.Profile, lim: lim, now: cfg.Now, rnd: cfg.Rand,
		vars: map[string]string{}, exported: map[string]bool{},
		sampled: map[string]bool{}, fetched: map[string]string{}, killed: map[int]bool{},
		funcs: map[string]command{},
	}
	s.pid = dev.NextPID + s.rnd.Intn(500)
	s.nextPID = s.pid + 1
	home := s.prof.Shell.Home
	if s.cfg.Username != "root" && s.prof.Shell.Home == "/root" {
		home = "/"
	}
	s.cwd = home
	for k, v := range map[string]string{
		"PATH": s.prof.Shell.Path, "HOME": home, "SHELL": "/bin/sh", "USER": s.cfg.Username,
		"LOGNAME": s.cfg.Username, "TERM": "vt102", "PWD": s.cwd, "PS1": s.prof.Shell.Prompt,
		"IFS": " \t\n",
	} {
		s.vars[k] = v
		if k != "PS1" && k != "IFS" {
			s.exported[k] = true
		}
	}
	s.inCLI = s.prof.CLI.Mode != "none" && s.prof.CLI.Mode != ""
	return s
}

// Prompt returns the prompt to show before the next line: the vendor CLI's
// while it is active, else the shell's PS1 with BusyBox's escapes expanded.
func (s *Shell) Prompt() string {
	if s.pending != nil {
		return ""
	}
	if s.heredoc != "" {
		if ps2, ok := s.vars["PS2"]; ok {
			return ps2
		}
		return "> "
	}
	if s.inCLI {
		return s.dev.Expand(s.prof.CLI.Prompt)
	}
	return s.expandPS1(s.vars["PS1"])
}

func (s *Shell) expandPS1(ps string) string {
	var b strings.Builder
	for i := 0; i < len(ps); i++ {
		c := ps[i]
		if c != '\\' || i+1 >= len(ps) {
			b.WriteByte(c)
			continue
		}
		i++
		switch ps[i] {
		case 'u':
			b.WriteString(s.cfg.Username)
		case 'h':
			b.WriteString(strings.SplitN(s.dev.Hostname, ".", 2)[0])
		case 'H':
			b.WriteString(s.dev.Hostname)
		case 'w':
			b.WriteString(s.tildeCwd())
		case 'W':
			w := s.tildeCwd()
			if w != "/" && w != "~" {
				w = w[strings.LastIndexByte(w, '/')+1:]
			}
			b.WriteString(w)
		case '$':
			if s.cfg.Username == "root" || s.isRootUID() {
				b.WriteByte('#')
			} else {
				b.WriteByte('$')
			}
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte('\\')
			b.WriteByte(ps[i])
		}
	}
	return b.String()
}

func (s *Shell) tildeCwd() string {
	home := s.vars["HOME"]
	if home != "" && home != "/" && (s.cwd == home || strings.HasPrefix(s.cwd, home+"/")) {
		return "~" + s.cwd[len(home):]
	}
	return s.cwd
}

// isRootUID reports whether the user has uid 0 in the profile's passwd
// (IoT firmwares often give admin uid 0).
func (s *Shell) isRootUID() bool {
	uid, _, _ := s.userIDs(s.cfg.Username)
	return uid == 0
}

// History returns the input lines of the session, oldest first.
func (s *Shell) History() []string { return append([]string(nil), s.history...) }

// Exec runs one input line (which may hold ; && || | and so on). While
// Pending, the line is terminal input, as Feed(line+"\n"). Output of
// commands, stdout and stderr alike, goes to out with "\n" line ends (the
// terminal layer adds the "\r"). exited is true when the session should
// end (exit, logout, reboot).
func (s *Shell) Exec(ctx context.Context, line string, out io.Writer) (exit int, exited bool) {
	if s.exited {
		return s.status, true
	}
	s.ensureFS()
	if s.pending != nil {
		// a sensor that does not use Feed: the line is terminal input
		s.Feed(ctx, []byte(line+"\n"), out)
		return s.status, s.exited
	}
	if len(line) > s.lim.MaxLineBytes {
		line = line[:s.lim.MaxLineBytes]
	}
	line = strings.TrimRight(line, "\r\n")
	s.outLeft = s.lim.MaxOutputBytes
	s.sleepLeft = s.lim.MaxSleep
	s.steps = 0
	s.execStart, s.waited = time.Now(), 0
	tw := &termWriter{s: s, w: out, ctx: ctx}
	if strings.TrimSpace(line) != "" {
		s.history = append(s.history, line)
		if len(s.history) > maxHistory {
			s.history = s.history[len(s.history)-maxHistory:]
		}
	}
	if s.inCLI {
		s.execCLI(ctx, line, tw)
		return s.status, s.exited
	}
	// A here-document typed at the prompt (cat > f << EOF): its body
	// lines are input to the command, not commands, so the whole is run
	// once the delimiter line has come. What is collected is bounded by
	// the file size limit; past it, the command runs with what came.
	if s.heredoc != "" {
		line, s.heredoc = s.heredoc+"\n"+line, ""
	}
	if int64(len(line)) < s.lim.MaxFileBytes && heredocOpen(line, s.lim.MaxDepth*4) {
		s.heredoc = line
		return s.status, false
	}
	s.curLine = line
	s.status = s.runTop(ctx, line, tw)
	return s.status, s.exited
}

// termWriter is the session terminal: it enforces the output budget of
// one Exec and paces output past OutputBurst at the device's rate.
type termWriter struct {
	s       *Shell
	w       io.Writer
	ctx     context.Context
	written int64
	debt    time.Duration // pacing owed and not yet slept
}

// paceChunk is how much output goes out between two pacing pauses.
const paceChunk = 1024

func (t *termWriter) Write(b []byte) (int, error) {
	if t.s.outLeft <= 0 {
		return 0, errOutput
	}
	n := len(b)
	if int64(n) > t.s.outLeft {
		b = b[:t.s.outLeft]
	}
	t.s.outLeft -= int64(len(b))
	m := len(b)
	for len(b) > 0 {
		k := min(len(b), paceChunk)
		if _, err := t.w.Write(b[:k]); err != nil {
			return 0, err
		}
		t.pace(k)
		b = b[k:]
	}
	if m < n {
		return m, errOutput
	}
	return n, nil
}

// pace accounts k bytes just written and waits once the debt reaches
// 10 ms, so the pauses are few but the rate holds.
func (t *termWriter) pace(k int) {
	before := t.written
	t.written += int64(k)
	rate := t.s.cfg.OutputRate
	if rate <= 0 || t.written <= OutputBurst {
		return
	}
	paced := t.written - max(before, OutputBurst)
	t.debt += time.Duration(paced) * time.Second / time.Duration(rate)
	if t.debt < 10*time.Millisecond {
		return
	}
	if f, ok := t.w.(interface{ Flush() error }); ok {
		f.Flush()
	}
	t.s.sleep(t.ctx, t.debt)
	t.debt = 0
}

// sleep waits d within what is left of the Exec's sleep budget.
func (s *Shell) sleep(ctx context.Context, d time.Duration) {
	d = min(d, s.sleepLeft)
	if d <= 0 || ctx.Err() != nil {
		return
	}
	s.sleepLeft -= d
	defer s.waitEnd(s.waitStart())
	s.cfg.Sleep(ctx, d)
}

// Close ends the session: files that look like payloads and were not yet
// reported are reported with Trigger "session-end".
func (s *Shell) Close(ctx context.Context) {
	if s.fs != nil {
		s.flushSamples(ctx)
		s.fs.releaseAll()
	}
	s.exited = true
}

// ensureFS builds the session's filesystem on its first command, so that
// the thousands of sessions that log in and then sit idle cost little.
func (s *Shell) ensureFS() {
	if s.fs != nil {
		return
	}
	s.fs = newVFS(s)
	if _, n, err := s.fs.lookup("/", s.cwd, true); err != nil || !n.isDir() {
		s.cwd = "/"
		s.vars["PWD"] = "/"
	}
}

// maxVarBytes bounds the total size of shell variables: `x=$x$x` in a
// loop must not exhaust the honeypot's memory.
const maxVarBytes = 4 << 20

// setVar assigns a variable within maxVarBytes; beyond it the value is
// cut, as if the device had run short of memory.
func (s *Shell) setVar(name, v string) {
	old := len(s.vars[name])
	room := maxVarBytes - (s.varBytes - old)
	if len(v) > room {
		v = v[:max(room, 0)]
	}
	s.varBytes += len(v) - old
	s.vars[name] = v
}

func (s *Shell) recountVars() {
	s.varBytes = 0
	for _, v := range s.vars {
		s.varBytes += len(v)
	}
}
