package shell

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/kansoku/kansoku/internal/profile"
)

// Where BusyBox installs its applet links (others go to /bin).
var appletDirs = map[string]string{}

func init() {
	for _, a := range strings.Fields("ifconfig route init halt reboot poweroff insmod rmmod lsmod modprobe mdev klogd syslogd udhcpc getty hwclock losetup mkdosfs mkfs.vfat fdisk blkid vconfig arp ifup ifdown watchdog swapon swapoff sysctl devmem start-stop-daemon logread runlevel pivot_root switch_root") {
		appletDirs[a] = "/sbin"
	}
	for _, a := range strings.Fields("wget tftp ftpget ftpput [ [[ awk basename cut dirname env expr free head tail id killall md5sum nslookup sort uniq tr wc which whoami xargs yes uptime top test telnet tee seq nohup hexdump od find du less cmp crontab time timeout unzip xz xzcat bzcat bunzip2 readlink realpath mkfifo nc printf traceroute traceroute6 clear logger setsid reset uudecode uuencode passwd diff patch renice lsof flock fuser ipcrm ipcs install expand more stat mktemp nice lock htpasswd lsusb ether-wake") {
		appletDirs[a] = "/usr/bin"
	}
	for _, a := range strings.Fields("telnetd tftpd crond brctl ntpd chroot arping iptables nvram chpasswd ubus uci") {
		appletDirs[a] = "/usr/sbin"
	}
}

// newVFS gives a session its filesystem: a copy of its device's base
// filesystem (shared, copied node by node only when the session changes a
// node) plus the session's own /proc entries.
func newVFS(s *Shell) *vfs {
	boot := s.dev.BootTime(s.now())
	b := baseFor(s.prof, s.dev, boot)
	v := &vfs{
		nodes:    maps.Clone(b.nodes),
		maxBytes: s.lim.MaxFSBytes,
		maxFile:  s.lim.MaxFileBytes,
		budget:   s.cfg.Memory,
		maxNodes: 20000,
		now:      s.now,
		mounts:   slices.Clone(b.mounts),
	}
	v.addSessionProc(s, boot)
	s.applets = b.applets
	return v
}

// baseFS is what every session of one device starts from. Its nodes are
// marked shared and never modified; a session that changes one gets its
// own copy (vfs.own).
type baseFS struct {
	boot    time.Time
	nodes   map[string]*node
	mounts  []mount
	applets map[string]bool // the profile's applets, for lookups by name
}

type baseKey struct {
	prof weak.Pointer[profile.Profile]
	dev  weak.Pointer[profile.Device]
}

// bases caches each device's base filesystem, so that a session costs a
// map copy instead of building hundreds of nodes; an entry goes when its
// device is collected, and is rebuilt when the device's simulated boot
// time changes.
var bases struct {
	sync.Mutex
	m map[baseKey]*baseFS
}

func baseFor(p *profile.Profile, d *profile.Device, boot time.Time) *baseFS {
	k := baseKey{weak.Make(p), weak.Make(d)}
	bases.Lock()
	b := bases.m[k]
	bases.Unlock()
	if b != nil && b.boot.Equal(boot) {
		return b
	}
	b = buildBase(p, d, boot)
	bases.Lock()
	defer bases.Unlock()
	if bases.m == nil {
		bases.m = map[baseKey]*baseFS{}
	}
	if _, had := bases.m[k]; !had {
		runtime.AddCleanup(d, func(k baseKey) {
			bases.Lock()
			delete(bases.m, k)
			bases.Unlock()
		}, k)
	}
	bases.m[k] = b
	return b
}

func buildBase(p *profile.Profile, d *profile.Device, boot time.Time) *baseFS {
	v := &vfs{nodes: make(map[string]*node, len(p.Files)+len(p.BusyBox.Applets)+64)}
	// Files of the firmware image carry its build date; RAM filesystems
	// were filled at boot.
	built := firmwareDate(p.BusyBox.Banner, boot)
	for name, f := range p.Files {
		t := built
		if !onImage(p, name) {
			t = boot
		}
		v.nodes[name] = &node{mode: f.Mode, data: f.Data, target: f.Target, mtime: t}
	}
	dir := func(name string) *node {
		if n := v.nodes[name]; n != nil && n.isDir() {
			return n
		}
		for d := name; d != "/"; d = path.Dir(d) {
			if v.nodes[d] == nil {
				t := boot
				if onImage(p, d) {
					t = built
				}
				v.nodes[d] = &node{mode: fs.ModeDir | 0o755, mtime: t}
			}
		}
		return v.nodes[name]
	}
	for _, d := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/etc", "/lib", "/dev", "/proc", "/sys", "/mnt"} {
		dir(d)
	}
	// /tmp and /var may be links in the profile; make their targets exist
	for _, d := range []string{"/tmp", "/var", "/var/run", "/var/tmp"} {
		if rp, err := v.resolve("/", d, true); err == nil && v.nodes[rp] == nil {
			dir(rp)
		}
	}
	if n := v.nodes["/tmp"]; n != nil && n.isDir() {
		n.mode |= fs.ModeSticky | 0o777
	}
	v.nodes["/bin/busybox"] = &node{mode: 0o755, data: p.BusyBoxImage(), mtime: built}
	for _, a := range p.BusyBox.Applets {
		d := appletDirs[a]
		if d == "" {
			d = "/bin"
		}
		name := path.Join(d, a)
		if v.nodes[name] != nil {
			continue
		}
		rel := strings.Repeat("../", strings.Count(d, "/")) + "bin/busybox"
		if d == "/bin" {
			rel = "busybox"
		}
		v.nodes[name] = &node{mode: fs.ModeSymlink | 0o777, target: rel, mtime: built}
	}
	v.addDev(boot)
	v.addProc(p, d, boot)
	// mount table: longest mount point first; later lines win for the same
	// point (the real root over rootfs)
	seen := map[string]int{}
	for _, line := range strings.Split(p.Mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		ro := false
		for _, o := range strings.Split(f[3], ",") {
			ro = ro || o == "ro"
		}
		if i, ok := seen[f[1]]; ok {
			v.mounts[i].ro = ro
			continue
		}
		seen[f[1]] = len(v.mounts)
		v.mounts = append(v.mounts, mount{f[1], ro})
	}
	sort.SliceStable(v.mounts, func(i, j int) bool { return len(v.mounts[i].dir) > len(v.mounts[j].dir) })
	for _, n := range v.nodes {
		n.shared = true
	}
	applets := make(map[string]bool, len(p.BusyBox.Applets))
	for _, a := range p.BusyBox.Applets {
		applets[a] = true
	}
	return &baseFS{boot: boot, nodes: v.nodes, mounts: v.mounts, applets: applets}
}

func (v *vfs) addDev(boot time.Time) {
	for name, d := range map[string]devKind{
		"null": devNull, "zero": devZero, "urandom": devRandom, "random": devRandom,
		"tty": devTTY, "console": devTTY, "ptmx": devTTY, "watchdog": devNull, "ttyS0": devTTY,
	} {
		v.nodes["/dev/"+name] = &node{mode: 0o666, dev: d, mtime: boot}
	}
	for i := 0; i < 6; i++ {
		v.nodes[fmt.Sprintf("/dev/mtdblock%d", i)] = &node{mode: 0o660, dev: devNull, mtime: boot}
		v.nodes[fmt.Sprintf("/dev/mtd%d", i)] = &node{mode: 0o660, dev: devNull, mtime: boot}
	}
	if v.nodes["/dev/pts"] == nil {
		v.nodes["/dev/pts"] = &node{mode: fs.ModeDir | 0o755, mtime: boot}
	}
	v.nodes["/dev/shm"] = &node{mode: fs.ModeDir | fs.ModeSticky | 0o777, mtime: boot}
}

// addProc adds the /proc entries that are the same for every session of
// the device. Their contents are computed here, not by closures over the
// profile or device, so the cached base keeps neither alive.
func (v *vfs) addProc(p *profile.Profile, d *profile.Device, boot time.Time) {
	ro := func(name string, gen func() []byte) {
		v.nodes[name] = &node{mode: 0o444, gen: gen, proc: true, mtime: boot}
	}
	static := func(name, text string) { ro(name, func() []byte { return []byte(text) }) }
	pdir := func(name string) {
		v.nodes[name] = &node{mode: fs.ModeDir | 0o555, proc: true, mtime: boot}
	}
	pdir("/proc")
	for _, sub := range []string{"/proc/sys", "/proc/sys/kernel", "/proc/net", "/proc/sys/net", "/proc/sys/vm"} {
		pdir(sub)
	}
	for _, sub := range []string{"/sys", "/sys/class", "/sys/devices", "/sys/kernel"} {
		if v.nodes[sub] == nil || v.nodes[sub].isDir() {
			pdir(sub)
		}
	}
	static("/proc/cpuinfo", p.CPUInfo)
	static("/proc/mounts", p.Mounts)
	static("/proc/version", p.ProcVersion+"\n")
	static("/proc/cmdline", p.Cmdline+"\n")
	static("/proc/filesystems", "nodev\tsysfs\nnodev\trootfs\nnodev\tramfs\nnodev\tproc\nnodev\ttmpfs\nnodev\tdevpts\n\tsquashfs\n\tjffs2\n")
	static("/proc/sys/kernel/hostname", d.Hostname+"\n")
	static("/proc/sys/kernel/random/boot_id", d.BootID+"\n")
	static("/proc/sys/kernel/ostype", p.Uname.Sysname+"\n")
	static("/proc/sys/kernel/osrelease", p.Uname.Release+"\n")
	pdir("/proc/sys/kernel/random")
	m := p.Memory
	static("/proc/meminfo", fmt.Sprintf("MemTotal:       %8d kB\nMemFree:        %8d kB\nBuffers:        %8d kB\nCached:         %8d kB\nSwapCached:            0 kB\nSwapTotal:      %8d kB\nSwapFree:       %8d kB\nShmem:          %8d kB\n",
		m.TotalKB, m.FreeKB, m.BuffersKB, m.CachedKB, m.SwapKB, m.SwapKB, m.SharedKB))
	var b strings.Builder
	b.WriteString("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, n := range d.Interfaces {
		fmt.Fprintf(&b, "%6s:%8d %7d    0    0    0     0          0         0 %8d %7d    0    0    0     0       0          0\n", n.Name, 0, 0, 0, 0)
	}
	static("/proc/net/dev", b.String())
	for _, pr := range d.Processes {
		addProcPID(v, pr.PID, pr.Command, boot)
	}
}

// addSessionProc adds the /proc entries of one session: those that read
// its clock and random source, and its own shell process.
func (v *vfs) addSessionProc(s *Shell, boot time.Time) {
	d := s.dev
	v.nodes["/proc/uptime"] = &node{mode: 0o444, proc: true, mtime: boot, gen: func() []byte {
		up := d.Uptime(s.now())
		return []byte(fmt.Sprintf("%.2f %.2f\n", up.Seconds(), up.Seconds()*0.93))
	}}
	v.nodes["/proc/loadavg"] = &node{mode: 0o444, proc: true, mtime: boot, gen: func() []byte {
		return []byte(fmt.Sprintf("0.%02d 0.%02d 0.%02d 1/%d %d\n", s.rnd.Intn(40), s.rnd.Intn(30)+5, s.rnd.Intn(20)+5, len(d.Processes), s.nextPID))
	}}
	addProcPID(v, s.pid, "-sh", boot)
	v.nodes["/proc/self"] = &node{mode: fs.ModeSymlink | 0o777, target: strconv.Itoa(s.pid), proc: true, mtime: boot}
}

// addProcPID adds /proc/PID with cmdline, comm, status and exe.
func addProcPID(v *vfs, pid int, cmd string, boot time.Time) {
	base := "/proc/" + strconv.Itoa(pid)
	v.nodes[base] = &node{mode: fs.ModeDir | 0o555, proc: true, mtime: boot}
	kernel := strings.HasPrefix(cmd, "[")
	args := strings.Fields(cmd)
	comm := strings.Trim(cmd, "[]")
	if !kernel && len(args) > 0 {
		comm = path.Base(args[0])
	}
	cmdline := ""
	if !kernel {
		cmdline = strings.Join(args, "\x00") + "\x00"
	}
	add := func(name, text string) {
		v.nodes[base+"/"+name] = &node{mode: 0o444, data: []byte(text), proc: true, mtime: boot}
	}
	add("cmdline", cmdline)
	add("comm", comm+"\n")
	add("status", fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n", comm, pid))
	if !kernel {
		exe := "/bin/busybox"
		if len(args) > 0 && path.IsAbs(args[0]) {
			if _, n, err := v.lookup("/", args[0], true); err == nil && !n.isDir() {
				exe = args[0]
			}
		}
		v.nodes[base+"/exe"] = &node{mode: fs.ModeSymlink | 0o777, target: exe, proc: true, mtime: boot}
	}
}

var bannerDate = regexp.MustCompile(`\(([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})`)

// firmwareDate is the build time in the BusyBox banner, or def.
func firmwareDate(banner string, def time.Time) time.Time {
	m := bannerDate.FindStringSubmatch(banner)
	if m == nil {
		return def
	}
	t, err := time.Parse("2006-01-02 15:04:05", m[1])
	if err != nil || t.After(def) {
		return def
	}
	return t
}

// onImage reports whether name lies on a read-only firmware image (as
// opposed to a RAM filesystem) according to the mount table.
func onImage(p *profile.Profile, name string) bool {
	name = path.Join(p.Resolve(path.Dir(name)), path.Base(name))
	best, fstype := "", ""
	for _, line := range strings.Split(p.Mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		if (name == f[1] || f[1] == "/" || strings.HasPrefix(name, f[1]+"/")) && len(f[1]) >= len(best) {
			best, fstype = f[1], f[2]
		}
	}
	switch fstype {
	case "tmpfs", "ramfs", "proc", "sysfs", "devtmpfs", "devpts":
		return false
	}
	return true
}
