package sandbox

import (
	"bytes"
	"fmt"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sandbox/strace"
)

// Bounds on what one report keeps.
const (
	maxProcesses  = 2000
	maxFileOps    = 2000
	maxConnsKept  = 1000
	scanThreshold = 8 // distinct addresses on one port that make a scan
	repeatedConns = 3
)

// traceFacts is what the syscall trace says, before the fake Internet's
// records and the filesystem are joined in.
type traceFacts struct {
	start                 float64
	root                  int
	procs                 map[int]*Process // by tgid
	order                 []int
	tgid                  map[int]int // tid → tgid
	files                 []FileOp
	attempts              map[connKey]*Connection
	connOrder             []connKey
	kills                 []Kill
	watchdog              []WatchdogAccess
	names                 []string
	rootExit              *Exit
	cpuHit                bool
	fsizeHit              bool
	procsHit              bool
	counts                map[string]int
	truncated             bool
	waiting               map[int][]strace.Record
	rawSockets, rawDenied int
	listens               []Listen
}

type connKey struct{ proto, dst string }

// parseTrace reads the trace of one attempt. Records before the sample's
// execve belong to the sandbox's own stage2 and are skipped: the sample's
// life starts at the first successful execve of anything but stage2.
// cwd is the sample's working directory at its start.
func parseTrace(trace []byte, cwd string) *traceFacts {
	recs, _ := strace.ParseAll(bytes.NewReader(trace))
	f := &traceFacts{procs: map[int]*Process{}, tgid: map[int]int{}, attempts: map[connKey]*Connection{}, counts: map[string]int{}}
	i := 0
	for ; i < len(recs); i++ {
		r := recs[i]
		if r.Kind == strace.KindSyscall && (r.Name == "execve" || r.Name == "execveat") && r.RetVal == 0 {
			if len(r.Args) == 0 {
				continue
			}
			if p, _ := strace.String(r.Args[0]); p != stage2Path {
				break
			}
		}
	}
	if i == len(recs) {
		return f // stage2 never reached the sample
	}
	root := recs[i].PID
	f.start, f.root = recs[i].Time, root
	f.procs[root] = &Process{PID: root, cwd: path.Clean("/" + cwd)}
	f.order = append(f.order, root)
	f.tgid[root] = root
	// stage2 lives on as the sample's parent: its tasks are not the sample's
	sandbox := map[int]bool{}
	for _, r := range recs[:i] {
		if r.PID != root {
			sandbox[r.PID] = true
		}
	}
	// A new task's first records can come before its parent's clone
	// returns; they wait here until the clone says whose task it is.
	f.waiting = map[int][]strace.Record{}
	for _, r := range recs[i:] {
		switch {
		case sandbox[r.PID]:
		case f.known(r.PID):
			f.apply(r)
		case len(f.waiting) < maxProcesses && len(f.waiting[r.PID]) < 1000:
			f.waiting[r.PID] = append(f.waiting[r.PID], r)
		}
	}
	return f
}

func (f *traceFacts) known(pid int) bool {
	_, ok := f.tgid[pid]
	return ok
}

// adopt applies the records a task made before its clone was seen.
func (f *traceFacts) adopt(pid int) {
	recs := f.waiting[pid]
	delete(f.waiting, pid)
	for _, r := range recs {
		f.apply(r)
	}
}

// stage2Path is how strace starts stage2 (helperInit).
const stage2Path = "/proc/self/fd/3"

func (f *traceFacts) owner(pid int) int {
	if t, ok := f.tgid[pid]; ok {
		return t
	}
	return pid
}

func (f *traceFacts) proc(pid int) *Process {
	t := f.owner(pid)
	p := f.procs[t]
	if p == nil {
		if len(f.procs) >= maxProcesses {
			f.truncated = true
			return &Process{PID: t}
		}
		p = &Process{PID: t}
		f.procs[t] = p
		f.order = append(f.order, t)
	}
	return p
}

func (f *traceFacts) offset(t float64) time.Duration {
	return time.Duration((t - f.start) * float64(time.Second))
}

func (f *traceFacts) apply(r strace.Record) {
	switch r.Kind {
	case strace.KindSignal:
		switch r.Signal {
		case "SIGXCPU":
			f.cpuHit = true
		case "SIGXFSZ":
			f.fsizeHit = true
		}
		return
	case strace.KindExit, strace.KindKilled:
		if f.owner(r.PID) != r.PID {
			return // a thread
		}
		e := &Exit{Code: r.Status, Signal: r.Signal, Core: r.Core, Finished: r.Kind == strace.KindExit}
		if r.Kind == strace.KindKilled {
			e.Finished = false
			switch r.Signal {
			case "SIGXCPU":
				f.cpuHit = true
			case "SIGXFSZ":
				f.fsizeHit = true
			}
		}
		f.proc(r.PID).Exit = e
		if r.PID == f.root {
			f.rootExit = e
		}
		return
	}
	f.counts[r.Name]++
	me := f.proc(r.PID)
	a := r.Args
	arg := func(i int) string {
		if i < len(a) {
			return a[i]
		}
		return ""
	}
	str := func(i int) string { s, _ := strace.String(arg(i)); return s }
	switch r.Name {
	case "clone", "clone3", "fork", "vfork":
		if r.RetVal <= 0 {
			if r.Errno == "EAGAIN" {
				f.procsHit = true
			}
			return
		}
		child := int(r.RetVal)
		if strings.Contains(strings.Join(a, ","), "CLONE_THREAD") {
			f.tgid[child] = me.PID
			f.adopt(child)
			return
		}
		f.tgid[child] = child
		c := f.proc(child)
		c.PPID, c.Start = me.PID, f.offset(r.Time)
		c.Exe, c.Argv, c.cwd = me.Exe, me.Argv, me.cwd // until it execs
		f.adopt(child)
	case "execve", "execveat":
		if r.RetVal != 0 {
			return
		}
		p, argv := str(0), strace.StringArray(arg(1))
		if r.Name == "execveat" {
			p, argv = str(1), strace.StringArray(arg(2))
		}
		if p == "/proc/self/exe" && me.Exe != "" {
			p = me.Exe // a re-exec of the same binary (busybox applets)
		}
		me.Exe, me.Argv = p, capArgv(argv)
		if len(me.Execs) < 8 {
			me.Execs = append(me.Execs, ExecCall{Exe: p, Argv: me.Argv, Offset: f.offset(r.Time)})
		}
	case "open", "openat", "creat":
		pi, fi := 0, 1
		if r.Name == "openat" {
			pi, fi = 1, 2
		}
		p := str(pi)
		if d := strace.Decor(r.Ret); d != "" {
			p = d
		}
		if strings.Contains(p, "watchdog") {
			f.watchdog = append(f.watchdog, WatchdogAccess{PID: me.PID, Op: "open", Path: p})
		}
		flags := arg(fi)
		writing := r.Name == "creat" || strings.Contains(flags, "O_WRONLY") || strings.Contains(flags, "O_RDWR") ||
			strings.Contains(flags, "O_CREAT") || strings.Contains(flags, "O_TRUNC")
		if !writing {
			return
		}
		if r.RetVal < 0 {
			// A write the device refused (read-only flash, full tmpfs)
			// is still an attempt, at persistence too.
			if failedWrite[r.Errno] {
				dirfd := ""
				if r.Name == "openat" {
					dirfd = arg(0)
				}
				if fp := resolve(dirfd, str(pi), me); !strings.HasPrefix(fp, "/dev/") && !strings.HasPrefix(fp, "/proc/") {
					f.file(FileOp{Op: "write", Path: fp, PID: me.PID, Failed: r.Errno})
				}
			}
			return
		}
		if !strings.HasPrefix(p, "/dev/") && !strings.HasPrefix(p, "/proc/") {
			f.file(FileOp{Op: "write", Path: p, PID: me.PID})
		}
	case "ioctl":
		if d := strace.Decor(arg(0)); strings.Contains(d, "watchdog") {
			f.watchdog = append(f.watchdog, WatchdogAccess{PID: me.PID, Op: "ioctl", Path: d, Arg: arg(1)})
		}
	case "unlink", "unlinkat":
		if r.RetVal == 0 || failedWrite[r.Errno] {
			dirfd, p := "", str(0)
			if r.Name == "unlinkat" {
				dirfd, p = arg(0), str(1)
			}
			op := "delete"
			if strings.Contains(arg(2), "AT_REMOVEDIR") {
				op = "rmdir"
			}
			f.file(FileOp{Op: op, Path: resolve(dirfd, p, me), PID: me.PID, Failed: r.Errno})
		}
	case "rename", "renameat", "renameat2":
		if r.RetVal == 0 {
			if r.Name == "rename" {
				f.file(FileOp{Op: "rename", Path: resolve("", str(0), me), To: resolve("", str(1), me), PID: me.PID})
			} else {
				f.file(FileOp{Op: "rename", Path: resolve(arg(0), str(1), me), To: resolve(arg(2), str(3), me), PID: me.PID})
			}
		}
	case "chmod", "fchmodat":
		if r.RetVal == 0 {
			if r.Name == "chmod" {
				f.file(FileOp{Op: "chmod", Path: resolve("", str(0), me), Mode: arg(1), PID: me.PID})
			} else {
				f.file(FileOp{Op: "chmod", Path: resolve(arg(0), str(1), me), Mode: arg(2), PID: me.PID})
			}
		}
	case "fchmod":
		if r.RetVal == 0 {
			if d := strace.Decor(arg(0)); strings.HasPrefix(d, "/") {
				f.file(FileOp{Op: "chmod", Path: d, Mode: arg(1), PID: me.PID})
			}
		}
	case "mkdir", "mkdirat":
		if r.RetVal == 0 {
			if r.Name == "mkdir" {
				f.file(FileOp{Op: "mkdir", Path: resolve("", str(0), me), PID: me.PID})
			} else {
				f.file(FileOp{Op: "mkdir", Path: resolve(arg(0), str(1), me), PID: me.PID})
			}
		}
	case "symlink", "symlinkat", "link", "linkat":
		if r.RetVal == 0 {
			op := "symlink"
			if strings.HasPrefix(r.Name, "link") {
				op = "link"
			}
			switch r.Name {
			case "symlink":
				f.file(FileOp{Op: op, Path: resolve("", str(1), me), To: str(0), PID: me.PID})
			case "symlinkat":
				f.file(FileOp{Op: op, Path: resolve(arg(1), str(2), me), To: str(0), PID: me.PID})
			case "link":
				f.file(FileOp{Op: op, Path: resolve("", str(1), me), To: str(0), PID: me.PID})
			case "linkat":
				f.file(FileOp{Op: op, Path: resolve(arg(2), str(3), me), To: resolve(arg(0), str(1), me), PID: me.PID})
			}
		}
	case "socket":
		if strings.Contains(arg(1), "SOCK_RAW") || strings.Contains(arg(1), "SOCK_PACKET") {
			f.rawSockets++
			if r.RetVal < 0 {
				f.rawDenied++
			}
		}
	case "bind":
		ip, port, fam, ok := strace.SockAddr(arg(1))
		if !ok || fam == "AF_UNIX" || r.RetVal != 0 || len(f.listens) >= 100 {
			return
		}
		proto := "tcp"
		if d := strace.Decor(arg(0)); strings.HasPrefix(d, "UDP") {
			proto = "udp"
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			f.listens = append(f.listens, Listen{Proto: proto, Addr: netip.AddrPortFrom(a, uint16(port)).String(), PID: me.PID})
		}
	case "listen":
		if d := strace.Decor(arg(0)); r.RetVal == 0 {
			for i := range f.listens {
				if f.listens[i].PID == me.PID && f.listens[i].Proto == "tcp" && strings.Contains(d, f.listens[i].Addr) {
					f.listens[i].Listening = true
				}
			}
		}
	case "connect":
		ip, port, fam, ok := strace.SockAddr(arg(1))
		if !ok || fam == "AF_UNIX" {
			return
		}
		proto := "tcp"
		if d := strace.Decor(arg(0)); strings.HasPrefix(d, "UDP") {
			proto = "udp"
		}
		f.attempt(proto, ip, port, "")
	case "sendto", "sendmsg":
		addr := arg(4)
		if r.Name == "sendmsg" {
			addr = arg(1)
		}
		ip, port, _, ok := strace.SockAddr(addr)
		if !ok {
			return
		}
		proto := "udp"
		if d := strace.Decor(arg(0)); strings.HasPrefix(d, "TCP") {
			proto = "tcp"
		}
		first := ""
		if r.Name == "sendto" {
			first = str(1)
		}
		f.attempt(proto, ip, port, first)
	case "kill", "tkill", "tgkill", "pidfd_send_signal":
		target, sigArg := int64(0), arg(1)
		target, _ = strconv.ParseInt(arg(0), 10, 64)
		if r.Name == "pidfd_send_signal" { // 9<pid:25>
			target, _ = strconv.ParseInt(strings.TrimPrefix(strace.Decor(arg(0)), "pid:"), 10, 64)
		}
		if r.Name == "tgkill" {
			sigArg = arg(2)
		}
		if target == 0 || target < -1 && r.Name != "kill" || sigArg == "0" || target > 0 && f.owner(int(target)) == me.PID {
			return // own threads (Go's preemption), probes
		}
		k := Kill{PID: me.PID, TargetPID: int(target), Signal: sigArg, Errno: r.Errno}
		switch {
		case target == -1:
			k.Target = "every process (kill -1)"
		case target < -1:
			k.Target = fmt.Sprintf("process group %d", -target)
		}
		if t := f.procs[f.owner(int(target))]; t != nil {
			k.Target = t.Exe
		}
		if len(f.kills) < 1000 {
			f.kills = append(f.kills, k)
		}
	case "chdir":
		if r.RetVal == 0 {
			me.cwd = resolve("", str(0), me)
		}
	case "fchdir":
		if d := strace.Decor(arg(0)); r.RetVal == 0 && strings.HasPrefix(d, "/") {
			me.cwd = path.Clean(d)
		}
	case "prctl":
		if arg(0) == "PR_SET_NAME" && len(f.names) < 100 {
			f.names = append(f.names, str(1))
		}
	}
}

// resolve makes a traced path absolute: a dirfd decoration (-yy) gives the
// directory; otherwise relative paths are taken from the process's working
// directory (its start directory, then what chdir set).
func resolve(dirfd, p string, me *Process) string {
	if strings.HasPrefix(p, "/") || p == "" {
		return path.Clean(p)
	}
	if d := strace.Decor(dirfd); strings.HasPrefix(d, "/") {
		return path.Join(d, p)
	}
	cwd := "/"
	if me != nil && me.cwd != "" {
		cwd = me.cwd
	}
	return path.Join(cwd, p)
}

func capArgv(a []string) []string {
	if len(a) > 32 {
		a = a[:32]
	}
	for i, s := range a {
		if len(s) > 512 {
			a[i] = s[:512]
		}
	}
	return a
}

func (f *traceFacts) file(op FileOp) {
	if len(f.files) < maxFileOps {
		f.files = append(f.files, op)
	}
}

func (f *traceFacts) attempt(proto, ip string, port int, first string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return
	}
	k := connKey{proto, netip.AddrPortFrom(a, uint16(port)).String()}
	c := f.attempts[k]
	if c == nil {
		if len(f.attempts) >= maxConnsKept*10 {
			return
		}
		c = &Connection{Proto: proto, Dst: k.dst}
		f.attempts[k] = c
		f.connOrder = append(f.connOrder, k)
	}
	c.Count++
	if first != "" && c.First == "" {
		c.First = escapeBytes([]byte(first), 256)
	}
	if proto == "udp" {
		c.Bytes += int64(len(first))
	}
}

// escapeBytes renders attacker bytes as printable ASCII, Go-quoted style
// without the quotes.
func escapeBytes(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	q := strconv.QuoteToASCII(string(b))
	return q[1 : len(q)-1]
}

// processList returns the processes in order of appearance.
func (f *traceFacts) processList() []Process {
	out := make([]Process, 0, len(f.order))
	for _, pid := range f.order {
		out = append(out, *f.procs[pid])
	}
	return out
}

// joinNetwork merges the trace's attempts with the fake Internet's records
// into the report's network sections.
func joinNetwork(rep *Report, f *traceFacts, recs []fakeRecord, m ExploitMatcher, longLived time.Duration) {
	names := map[string]string{} // answer address → name
	dnsIdx := map[[2]string]int{}
	for _, r := range recs {
		if r.Kind != "dns" {
			continue
		}
		k := [2]string{strings.ToLower(r.Name), r.QType}
		i, ok := dnsIdx[k]
		if !ok {
			i = len(rep.DNS)
			dnsIdx[k] = i
			rep.DNS = append(rep.DNS, DNSQuery{Name: r.Name, Type: r.QType, Answer: r.Answer})
		}
		q := &rep.DNS[i]
		q.Count++
		q.Received = q.Received || r.Replied
		if res := r.Dst.String(); r.Dst.IsValid() && !slices.Contains(q.Resolvers, res) && len(q.Resolvers) < 8 {
			q.Resolvers = append(q.Resolvers, res)
		}
		if r.Answer != "" {
			names[r.Answer] = r.Name
		}
	}
	conns := map[connKey]*Connection{}
	var order []connKey
	for _, k := range f.connOrder {
		c := *f.attempts[k]
		conns[k] = &c
		order = append(order, k)
	}
	seenURL := map[string]bool{}
	addURL := func(u, src string) {
		if !seenURL[u] && len(rep.DownloadURLs) < 500 {
			seenURL[u] = true
			rep.DownloadURLs = append(rep.DownloadURLs, DownloadURL{URL: u, Source: src})
		}
	}
	for _, r := range recs {
		if r.Kind != "tcp" {
			continue
		}
		k := connKey{"tcp", r.Dst.String()}
		c := conns[k]
		if c == nil {
			c = &Connection{Proto: "tcp", Dst: k.dst, Count: 1}
			conns[k] = c
			order = append(order, k)
		}
		c.Captured++
		c.Bytes += r.Bytes
		if c.First == "" && len(r.First) > 0 {
			c.First = escapeBytes(r.First, 256)
		}
		c.Duration = max(c.Duration, r.Duration)
		var matches []ExploitMatch
		if len(r.First) > 0 && m != nil {
			matches = m.MatchRaw("tcp", int(r.Dst.Port()), r.First)
			if len(matches) > 0 && len(rep.Exploits) < 500 {
				var urls []string
				for _, m := range matches {
					for _, u := range m.DownloadURLs {
						if !slices.Contains(urls, u) {
							urls = append(urls, u)
						}
					}
				}
				rep.Exploits = append(rep.Exploits, ExploitRequest{Dst: r.Dst.String(), First: escapeBytes(r.First, 512), Matches: matches, URLs: urls})
				for _, u := range urls {
					addURL(u, "exploit-payload")
				}
			}
		}
		// A plain GET to the fake Internet is a download; an exploit is not.
		if h := r.HTTP; h != nil && len(matches) == 0 && (h.Method == "GET" || h.Method == "HEAD") && strings.HasPrefix(h.URI, "/") {
			host := h.Host
			if host == "" {
				host = r.Dst.String()
			}
			addURL("http://"+host+h.URI, "http-request")
		}
	}
	rep.FanOut = map[string]int{}
	perPort := map[string]map[string]bool{}
	for _, k := range order {
		c := conns[k]
		ap, err := netip.ParseAddrPort(c.Dst)
		if err != nil {
			continue
		}
		c.Name = names[ap.Addr().String()]
		pk := c.Proto + "/" + strconv.Itoa(int(ap.Port()))
		if perPort[pk] == nil {
			perPort[pk] = map[string]bool{}
		}
		perPort[pk][ap.Addr().String()] = true
		if len(rep.Connections) < maxConnsKept {
			rep.Connections = append(rep.Connections, *c)
		}
	}
	scanPorts := map[string]bool{}
	var pks []string
	for pk := range perPort {
		pks = append(pks, pk)
	}
	sort.Strings(pks)
	for _, pk := range pks {
		targets := perPort[pk]
		rep.FanOut[pk] = len(targets)
		if len(targets) < scanThreshold {
			continue
		}
		proto, port, _ := strings.Cut(pk, "/")
		pn, _ := strconv.Atoi(port)
		s := Scan{Proto: proto, Port: pn, Targets: len(targets)}
		for _, k := range order {
			if ap, err := netip.ParseAddrPort(conns[k].Dst); err == nil && k.proto == proto && int(ap.Port()) == pn {
				s.Count += conns[k].Count
				if len(s.Sample) < 10 {
					s.Sample = append(s.Sample, conns[k].Dst)
				}
			}
		}
		scanPorts[pk] = true
		rep.Scans = append(rep.Scans, s)
	}
	for _, k := range order {
		c := conns[k]
		ap, _ := netip.ParseAddrPort(c.Dst)
		if scanPorts[c.Proto+"/"+strconv.Itoa(int(ap.Port()))] || c.Proto == "udp" && ap.Port() == 53 {
			continue
		}
		var reasons []string
		if c.Count >= repeatedConns {
			reasons = append(reasons, fmt.Sprintf("repeated: %d connections", c.Count))
		}
		if c.Duration >= longLived {
			reasons = append(reasons, fmt.Sprintf("long-lived: %s", c.Duration.Round(time.Millisecond)))
		}
		if len(reasons) == 0 {
			continue
		}
		if c.Name != "" {
			reasons = append(reasons, "resolved name "+c.Name)
		}
		rep.C2 = append(rep.C2, C2Candidate{Dst: c.Dst, Name: c.Name, Reasons: reasons})
	}
}

// failedWrite are the errors of a write the device refused.
var failedWrite = map[string]bool{"EROFS": true, "EACCES": true, "EPERM": true, "ENOSPC": true, "EDQUOT": true, "EFBIG": true}
