package shell

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var sysApplets = map[string]cmdFunc{
	"ps": cmdPs, "kill": cmdKill, "killall": cmdKillall, "uname": cmdUname, "nproc": cmdNproc,
	"free": cmdFree, "df": cmdDf, "mount": cmdMount, "ifconfig": cmdIfconfig, "which": cmdWhich,
	"id": cmdId, "whoami": cmdWhoami, "reboot": cmdReboot, "halt": cmdReboot, "poweroff": cmdReboot,
	"iptables": cmdTrue, "passwd": cmdPasswd, "nvram": cmdNvram, "sleep": cmdSleep, "usleep": cmdSleep,
	"hostname": cmdHostname, "uptime": cmdUptime, "date": cmdDate, "env": cmdEnv, "true": cmdTrue,
	"false": cmdFalse, "pidof": cmdPidof, "umount": cmdTrue, "sysctl": cmdTrue, "clear": cmdClear,
	"dmesg": cmdTrue, "chpasswd": cmdTrue, "crontab": cmdCrontab, "nohup": cmdNohup, "ulimit": cmdUlimit,
}

var versionRE = regexp.MustCompile(`v1\.([0-9]+)`)

// bbMinor is the BusyBox 1.x minor version of the profile (output formats
// changed over the years).
func (s *Shell) bbMinor() int {
	m := versionRE.FindStringSubmatch(s.prof.BusyBox.Banner)
	if m == nil {
		return 30
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func cmdBusybox(s *Shell, c *call) int {
	args := c.args[1:]
	if len(args) == 0 || args[0] == "--help" {
		fmt.Fprint(c.out, s.busyboxHelp())
		if len(args) == 0 {
			return 0
		}
		return 0
	}
	if args[0] == "--list" || args[0] == "--list-full" {
		names := append([]string(nil), s.prof.BusyBox.Applets...)
		sort.Strings(names)
		for _, a := range names {
			if args[0] == "--list-full" {
				d := appletDirs[a]
				if d == "" {
					d = "/bin"
				}
				a = strings.TrimPrefix(d, "/") + "/" + a
			}
			fmt.Fprintln(c.out, a)
		}
		return 0
	}
	c.args = args
	return s.runApplet(c, args[0])
}

func (s *Shell) busyboxHelp() string {
	var b strings.Builder
	b.WriteString(s.prof.BusyBox.Banner + "\n")
	if s.bbMinor() >= 26 {
		b.WriteString("BusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  The shell in this build\n\tis configured to run built-in utilities without $PATH search.\n\tYou don't need to install a link to busybox for each utility.\n\tTo run external program, use full path (/sbin/ip instead of ip).\n\nCurrently defined functions:\n")
	} else {
		b.WriteString("Copyright (C) 1998-2011 Erik Andersen, Rob Landley, Denys Vlasenko\nand others. Licensed under GPLv2.\nSee source distribution for full notice.\n\nUsage: busybox [function] [arguments]...\n   or: busybox --list[-full]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n\twill act like whatever it was invoked as.\n\nCurrently defined functions:\n")
	}
	b.WriteString(appletColumns(s.prof.BusyBox.Applets, 80))
	return b.String()
}

// appletColumns formats the applet list like BusyBox: tab-indented,
// comma-separated, wrapped before the output width.
func appletColumns(list []string, width int) string {
	names := append([]string(nil), list...)
	sort.Strings(names)
	var b strings.Builder
	col := 0
	width-- // keep the last comma off the last column
	for _, a := range names {
		l := len(a) + 2
		if col >= width-l {
			b.WriteString(",\n")
			col = 0
		}
		if col == 0 {
			col = 6
			b.WriteString("\t")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(a)
		col += l
	}
	b.WriteString("\n")
	return b.String()
}

type psEntry struct {
	pid                  int
	user, vsz, stat, cmd string
}

func (s *Shell) processes() []psEntry {
	out := make([]psEntry, 0, len(s.dev.Processes)+2)
	for _, p := range s.dev.Processes {
		if s.killed[p.PID] {
			continue
		}
		out = append(out, psEntry{p.PID, p.User, p.VSZ, p.Stat, p.Command})
	}
	user := s.cfg.Username
	out = append(out, psEntry{s.pid, user, s.busyboxVSZ(8), "S", "-sh"})
	return out
}

// busyboxVSZ is the VSZ of a BusyBox process on this device: init's (the
// same binary) plus a few KiB of its own data.
func (s *Shell) busyboxVSZ(extra int) string {
	for _, p := range s.dev.Processes {
		if p.PID == 1 {
			if n, err := strconv.Atoi(p.VSZ); err == nil {
				return strconv.Itoa(n + extra)
			}
		}
	}
	return strconv.Itoa(1452 + extra)
}

func cmdPs(s *Shell, c *call) int {
	fmt.Fprintln(c.out, "  PID USER       VSZ STAT COMMAND")
	ps := s.processes()
	ps = append(ps, psEntry{s.newPID(), s.cfg.Username, s.busyboxVSZ(4), "R", strings.Join(c.args, " ")})
	for _, p := range ps {
		fmt.Fprintf(c.out, "%5d %-8.8s %5s %-4.4s %s\n", p.pid, p.user, p.vsz, p.stat, p.cmd)
	}
	return 0
}

func cmdKill(s *Shell, c *call) int {
	builtin := c.args[0] == "kill"
	args := c.args[1:]
	if len(args) > 0 && args[0] == "-l" {
		sigs := []string{"HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM"}
		for i, n := range sigs {
			fmt.Fprintf(c.out, "%2d) %s\n", i+1, n)
		}
		return 0
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-s" && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		bbErr(c, builtin, "you need to specify whom to kill")
		return 1
	}
	st := 0
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			bbErr(c, builtin, "invalid number '%s'", a)
			st = 1
			continue
		}
		switch {
		case pid == s.pid:
			c.fr.exit, c.fr.exitCode = true, 137
			s.exited = true
		case s.knownPID(pid):
			if pid == 1 {
				continue // init ignores signals it does not handle
			}
			s.killed[pid] = true
			s.fs.remove("/proc/" + a)
		default:
			bbErr(c, builtin, "can't kill pid %d: No such process", pid)
			st = 1
		}
	}
	return st
}

func (s *Shell) knownPID(pid int) bool {
	for _, p := range s.dev.Processes {
		if p.PID == pid && !s.killed[pid] {
			return true
		}
	}
	return false
}

func cmdKillall(s *Shell, c *call) int {
	_, args := flags(c.args[1:], "s")
	if len(args) == 0 {
		return s.usage(c, "killall")
	}
	st := 0
	for _, name := range args {
		n := 0
		for _, p := range s.dev.Processes {
			f := strings.Fields(p.Command)
			if len(f) > 0 && (f[0] == name || strings.HasSuffix(f[0], "/"+name)) && !s.killed[p.PID] && p.PID != 1 {
				s.killed[p.PID] = true
				n++
			}
		}
		if n == 0 {
			c.errf("%s: no process killed", name)
			st = 1
		}
	}
	return st
}

func cmdPidof(s *Shell, c *call) int {
	var pids []string
	for _, name := range c.args[1:] {
		for _, p := range s.processes() {
			f := strings.Fields(p.cmd)
			if len(f) > 0 && (f[0] == name || strings.HasSuffix(f[0], "/"+name)) {
				pids = append(pids, strconv.Itoa(p.pid))
			}
		}
	}
	if len(pids) == 0 {
		return 1
	}
	fmt.Fprintln(c.out, strings.Join(pids, " "))
	return 0
}

func cmdUname(s *Shell, c *call) int {
	set, _ := flags(c.args[1:], "")
	u := s.prof.Uname
	fields := []struct {
		f byte
		v string
	}{{'s', u.Sysname}, {'n', s.dev.Hostname}, {'r', u.Release}, {'v', u.Version}, {'m', u.Machine}, {'o', u.OS}}
	var out []string
	for _, f := range fields {
		if has(set, f.f) || has(set, 'a') && (f.f != 'o' || true) {
			out = append(out, f.v)
		}
	}
	if has(set, 'p') && !has(set, 'a') {
		out = append(out, "unknown")
	}
	if len(out) == 0 {
		out = []string{u.Sysname}
	}
	fmt.Fprintln(c.out, strings.Join(out, " "))
	return 0
}

func (s *Shell) ncpu() int {
	n := strings.Count(s.prof.CPUInfo, "processor\t")
	if n == 0 {
		n = 1
	}
	return n
}

func cmdNproc(s *Shell, c *call) int {
	fmt.Fprintln(c.out, s.ncpu())
	return 0
}

func cmdWhich(s *Shell, c *call) int {
	st := 0
	for _, a := range c.args[1:] {
		var p string
		if strings.Contains(a, "/") {
			if _, n, err := s.fs.lookup(s.cwd, a, true); err == nil && n.mode&0o111 != 0 && !n.isDir() {
				p = a
			}
		} else {
			p = s.lookPath(a)
		}
		if p == "" {
			st = 1
			continue
		}
		fmt.Fprintln(c.out, p)
	}
	return st
}

// userIDs returns uid, gid and home of a user from the VFS /etc/passwd.
func (s *Shell) userIDs(user string) (int, int, string) {
	_, n, err := s.fs.lookup("/", "/etc/passwd", true)
	if err == nil {
		for _, line := range strings.Split(string(n.content()), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[0] == user {
				uid, _ := strconv.Atoi(f[2])
				gid, _ := strconv.Atoi(f[3])
				return uid, gid, f[5]
			}
		}
	}
	if user == "root" {
		return 0, 0, "/root"
	}
	return 0, 0, "/" // an account the honeypot accepted that the device lacks
}

func (s *Shell) userHome(user string) (string, bool) {
	_, n, err := s.fs.lookup("/", "/etc/passwd", true)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(n.content()), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 6 && f[0] == user {
			return f[5], true
		}
	}
	return "", false
}

func (s *Shell) groupName(gid int) string {
	_, n, err := s.fs.lookup("/", "/etc/group", true)
	if err == nil {
		for _, line := range strings.Split(string(n.content()), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 3 && f[2] == strconv.Itoa(gid) {
				return f[0]
			}
		}
	}
	if gid == 0 {
		return "root"
	}
	return strconv.Itoa(gid)
}

func cmdId(s *Shell, c *call) int {
	uid, gid, _ := s.userIDs(s.cfg.Username)
	name := s.userName(uid)
	if name == "" {
		name = s.cfg.Username
	}
	set, _ := flags(c.args[1:], "")
	switch {
	case has(set, 'u') && has(set, 'n'):
		fmt.Fprintln(c.out, name)
	case has(set, 'u'):
		fmt.Fprintln(c.out, uid)
	case has(set, 'g'):
		fmt.Fprintln(c.out, gid)
	default:
		fmt.Fprintf(c.out, "uid=%d(%s) gid=%d(%s)\n", uid, name, gid, s.groupName(gid))
	}
	return 0
}

func cmdWhoami(s *Shell, c *call) int {
	// whoami names the uid, as the device's passwd has it (QNAP's uid 0 is admin)
	uid, _, _ := s.userIDs(s.cfg.Username)
	if name := s.userName(uid); name != "" {
		fmt.Fprintln(c.out, name)
		return 0
	}
	fmt.Fprintln(c.out, s.cfg.Username)
	return 0
}

func cmdReboot(s *Shell, c *call) int {
	// the device goes down: the session ends
	c.fr.exit, c.fr.exitCode = true, 0
	s.exited = true
	return 0
}

func cmdPasswd(s *Shell, c *call) int {
	user := s.cfg.Username
	if len(c.args) > 1 && !strings.HasPrefix(c.args[len(c.args)-1], "-") {
		user = c.args[len(c.args)-1]
	}
	fmt.Fprintf(c.out, "Changing password for %s\n", user)
	fmt.Fprint(c.out, "New password: ")
	p1, ok1 := c.in.readLine()
	fmt.Fprint(c.out, "\nRetype password: ")
	p2, ok2 := c.in.readLine()
	fmt.Fprintln(c.out)
	if !ok1 || !ok2 || p1 != p2 || p1 == "" {
		fmt.Fprintf(c.out, "passwd: password for %s is unchanged\n", user)
		return 1
	}
	fmt.Fprintf(c.out, "passwd: password for %s changed by %s\n", user, s.cfg.Username)
	return 0
}

func cmdNvram(s *Shell, c *call) int {
	if len(c.args) > 1 {
		switch c.args[1] {
		case "get":
			fmt.Fprintln(c.out)
		case "show":
			fmt.Fprintf(c.out, "lan_ipaddr=192.168.1.1\nlan_netmask=255.255.255.0\nhttp_username=admin\nsize: 3184 bytes (62352 left)\n")
		}
	}
	return 0
}

// cmdSleep returns at once: a honeypot session gains nothing from idling
// and limits must hold however long the loop.
func cmdSleep(s *Shell, c *call) int {
	if len(c.args) < 2 {
		return s.usage(c, c.args[0])
	}
	var total time.Duration
	for _, arg := range c.args[1:] {
		a := arg
		if c.args[0] == "usleep" {
			n, err := strconv.ParseUint(a, 10, 32)
			if err != nil {
				c.errf("invalid number '%s'", a)
				return 1
			}
			total += time.Duration(n) * time.Microsecond
			break
		}
		unit := time.Second
		switch {
		case strings.HasSuffix(a, "s"):
			a = a[:len(a)-1]
		case strings.HasSuffix(a, "m"):
			a, unit = a[:len(a)-1], time.Minute
		case strings.HasSuffix(a, "h"):
			a, unit = a[:len(a)-1], time.Hour
		case strings.HasSuffix(a, "d"):
			a, unit = a[:len(a)-1], 24*time.Hour
		}
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f < 0 || strings.ContainsAny(a, "xXnN") {
			c.errf("invalid number '%s'", arg)
			return 1
		}
		total += time.Duration(min(f*float64(unit), float64(1<<62)))
	}
	// a real sleep: bots time the device (Mirai's loader, `sleep 1; echo`)
	s.sleep(c.ctx, total)
	return 0
}

func cmdHostname(s *Shell, c *call) int {
	if len(c.args) > 1 && !strings.HasPrefix(c.args[1], "-") {
		return 0
	}
	fmt.Fprintln(c.out, s.dev.Hostname)
	return 0
}

func cmdUptime(s *Shell, c *call) int {
	now := s.now()
	up := s.dev.Uptime(now)
	days := int(up.Hours()) / 24
	h, m := int(up.Hours())%24, int(up.Minutes())%60
	var ups string
	if days > 0 {
		ups = fmt.Sprintf("%d day%s, ", days, map[bool]string{true: "s", false: ""}[days != 1])
	}
	if h > 0 {
		ups += fmt.Sprintf("%2d:%02d", h, m)
	} else {
		ups += fmt.Sprintf("%d min", m)
	}
	fmt.Fprintf(c.out, " %s up %s,  load average: 0.%02d, 0.%02d, 0.%02d\n", now.Format("15:04:05"), ups, s.rnd.Intn(50), s.rnd.Intn(40)+5, s.rnd.Intn(30)+5)
	return 0
}

func cmdDate(s *Shell, c *call) int {
	fmt.Fprintln(c.out, s.now().UTC().Format("Mon Jan _2 15:04:05 MST 2006"))
	return 0
}

func cmdEnv(s *Shell, c *call) int {
	if len(c.args) > 1 {
		return s.dispatch(c.ctx, c.fr, c.args[1:], c.stdio)
	}
	var names []string
	for k := range s.exported {
		if _, ok := s.vars[k]; ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(c.out, "%s=%s\n", k, s.vars[k])
	}
	return 0
}

func cmdClear(s *Shell, c *call) int {
	fmt.Fprint(c.out, "\x1b[H\x1b[J")
	return 0
}

func cmdNohup(s *Shell, c *call) int {
	if len(c.args) < 2 {
		return s.usage(c, "nohup")
	}
	return s.dispatch(c.ctx, c.fr, c.args[1:], c.stdio)
}

var _ = time.Second
