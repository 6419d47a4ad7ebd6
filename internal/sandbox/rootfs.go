package sandbox

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// archOf tells the architecture of an ELF: its qemu name and the name used
// in reports.
func archOf(b []byte) (qemu, name string, err error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return "", "", ErrNotELF
	}
	le := f.Data == elf.ELFDATA2LSB
	switch f.Machine {
	case elf.EM_ARM:
		if le {
			return "arm", "arm", nil
		}
		return "armeb", "armeb", nil
	case elf.EM_AARCH64:
		return "aarch64", "aarch64", nil
	case elf.EM_MIPS:
		switch {
		case f.Class == elf.ELFCLASS64 && le:
			return "mips64el", "mips64el", nil
		case f.Class == elf.ELFCLASS64:
			return "mips64", "mips64", nil
		case le:
			return "mipsel", "mipsel", nil
		}
		return "mips", "mips", nil
	case elf.EM_PPC:
		return "ppc", "powerpc", nil
	case elf.EM_PPC64:
		if le {
			return "ppc64le", "ppc64le", nil
		}
		return "ppc64", "ppc64", nil
	case elf.EM_SH:
		if le {
			return "sh4", "sh4", nil
		}
		return "sh4eb", "sh4eb", nil
	case elf.EM_68K:
		return "m68k", "m68k", nil
	case elf.EM_SPARC, elf.EM_SPARC32PLUS:
		return "sparc", "sparc", nil
	case elf.EM_SPARCV9:
		return "sparc64", "sparc64", nil
	case elf.EM_386:
		if !native386() {
			return "i386", "x86", nil // the host runs no 32-bit x86 natively
		}
		return "", "x86", nil
	case elf.EM_X86_64:
		return "", "x86_64", nil
	case elf.EM_RISCV:
		if f.Class == elf.ELFCLASS64 {
			return "riscv64", "riscv64", nil
		}
		return "riscv32", "riscv32", nil
	}
	return "", "", fmt.Errorf("%w: %v", ErrArch, f.Machine)
}

// binfmtDir holds Debian's qemu-user-static binfmt descriptions.
const binfmtDir = "/usr/share/binfmts"

// binfmtEntries reads every qemu description, so a sample that execs a
// binary of another architecture (bots carry several) runs too.
func binfmtEntries() ([]binfmtEntry, error) {
	ents, err := os.ReadDir(binfmtDir)
	if err != nil {
		return nil, err
	}
	var out []binfmtEntry
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "qemu-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(binfmtDir, e.Name()))
		if err != nil {
			continue
		}
		var be binfmtEntry
		be.Name = e.Name()
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch k {
			case "magic":
				be.Magic = v
			case "mask":
				be.Mask = v
			case "interpreter":
				be.Interp = v
			}
		}
		if be.Magic == "" || be.Interp == "" {
			continue
		}
		if _, err := os.Stat(be.Interp); err != nil {
			continue
		}
		out = append(out, be)
	}
	if len(out) == 0 {
		return nil, errors.New("no qemu binfmt descriptions in " + binfmtDir)
	}
	// Debian describes no i386 emulator on an x86-64 host, which runs
	// 32-bit x86 itself unless its kernel has IA-32 emulation off.
	if _, err := os.Stat(qemuI386); err == nil && !native386() {
		out = append(out, binfmtEntry{Name: "qemu-i386", Interp: qemuI386, Flags: "F",
			Magic: `\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00`,
			Mask:  `\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff`})
	}
	return out, nil
}

const qemuI386 = "/usr/bin/qemu-i386-static"

// native386 reports whether this host executes 32-bit x86 ELF files: it
// runs a 93-byte static program that only calls exit(0).
var native386 = sync.OnceValue(func() bool {
	if runtime.GOARCH == "386" {
		return true
	}
	if runtime.GOARCH != "amd64" {
		return false
	}
	code := []byte{0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80} // mov eax,1; xor ebx,ebx; int 0x80
	b := make([]byte, 84, 84+len(code))
	copy(b, "\x7fELF\x01\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)          // ET_EXEC
	le.PutUint16(b[18:], 3)          // EM_386
	le.PutUint32(b[20:], 1)          // version
	le.PutUint32(b[24:], 0x08048054) // entry: the code after the headers
	le.PutUint32(b[28:], 52)         // phoff
	le.PutUint16(b[40:], 52)         // ehsize
	le.PutUint16(b[42:], 32)         // phentsize
	le.PutUint16(b[44:], 1)          // phnum
	ph := b[52:]
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[8:], 0x08048000)
	le.PutUint32(ph[12:], 0x08048000)
	le.PutUint32(ph[16:], uint32(84+len(code)))
	le.PutUint32(ph[20:], uint32(84+len(code)))
	le.PutUint32(ph[24:], 5) // R+X
	le.PutUint32(ph[28:], 0x1000)
	b = append(b, code...)
	f, err := os.CreateTemp("", "kansoku-i386-")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	f.Close()
	if err != nil || os.Chmod(f.Name(), 0o700) != nil {
		return false
	}
	return exec.Command(f.Name()).Run() == nil
})

// mountEntry is one line of a /proc/mounts text.
type mountEntry struct {
	Dev, Point, Type, Opts string
}

var volatileTypes = map[string]bool{"tmpfs": true, "ramfs": true, "devtmpfs": true, "proc": true, "sysfs": true,
	"devpts": true, "debugfs": true, "cgroup": true, "cgroup2": true, "securityfs": true, "usbfs": true, "rootfs": false}

func parseMounts(text string) []mountEntry {
	var out []mountEntry
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || !strings.HasPrefix(f[1], "/") {
			continue
		}
		e := mountEntry{Dev: f[0], Point: path.Clean(f[1]), Type: f[2]}
		if len(f) > 3 {
			e.Opts = f[3]
		}
		out = append(out, e)
		if len(out) > 256 {
			break
		}
	}
	return out
}

// DefaultMounts is the mount table of the default device: root on JFFS2
// flash, /tmp and /var in RAM, as on most small routers.
const DefaultMounts = `rootfs / rootfs rw 0 0
/dev/mtdblock2 / jffs2 rw,relatime 0 0
proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw,relatime 0 0
tmpfs /tmp tmpfs rw,relatime 0 0
tmpfs /var tmpfs rw,relatime 0 0
tmpfs /dev tmpfs rw,relatime 0 0
`

// layout says where each guest path lives on the host for one run.
type layout struct {
	root     string      // persistent (flash) layer
	volatile []bindMount // tmpfs mount points → throwaway host tmpfs
	readOnly []string
	flash    []string // writable flash mount points below the root, bound on their own
	mounts   []mountEntry
	mounted  []string // host tmpfs mounts to undo
	enforced []string // the size caps, for the report
}

// mountFor returns the mount entry that holds guest path p (longest prefix).
func (l *layout) mountFor(p string) (mountEntry, bool) {
	best, ok := mountEntry{}, false
	for _, m := range l.mounts {
		if under(p, m.Point) && (!ok || len(m.Point) >= len(best.Point)) {
			best, ok = m, true
		}
	}
	return best, ok
}

func under(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}

// persistent reports whether guest path p survives a reboot.
func (l *layout) persistent(p string) bool {
	m, ok := l.mountFor(p)
	if !ok {
		return true // the root filesystem of a device without a table is its flash
	}
	if volatileTypes[m.Type] {
		return false
	}
	return true // flash, or a filesystem we cannot tell apart from it
}

// layer returns the host directory holding guest path p (the flash
// layer or a volatile mount's directory) and p relative to it.
func (l *layout) layer(p string) (dir, rel string) {
	p = path.Clean("/" + p)
	best := -1
	for i, v := range l.volatile {
		if under(p, v.Dst) && (best < 0 || len(v.Dst) > len(l.volatile[best].Dst)) {
			best = i
		}
	}
	if best >= 0 {
		rel = strings.TrimPrefix(strings.TrimPrefix(p, l.volatile[best].Dst), "/")
		return l.volatile[best].Src, orDot(rel)
	}
	return l.root, orDot(strings.TrimPrefix(p, "/"))
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

// hostPath maps guest path p to a host path, for display and tests only:
// host-side file access goes through readFile/writeFile, which never
// follow a symlink out of the sandbox's tree.
func (l *layout) hostPath(p string) string {
	dir, rel := l.layer(p)
	return filepath.Join(dir, rel)
}

// readFile reads guest path p from the host side, at most n bytes. The
// tree is hostile (the firmware image, the sample's own symlinks and
// FIFOs): os.Root keeps resolution inside it, and only regular files are
// read.
func (l *layout) readFile(p string, n int64) ([]byte, error) {
	dir, rel := l.layer(p)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// readDir lists guest directory p from the host side.
func (l *layout) readDir(p string) ([]fs.DirEntry, error) {
	dir, rel := l.layer(p)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(1000)
}

// writeFile creates guest file p (and its parents) from the host side.
func (l *layout) writeFile(p string, b []byte, perm os.FileMode) error {
	dir, rel := l.layer(p)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if d := path.Dir(rel); d != "." {
		if err := r.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	r.Remove(rel) // a symlink there is replaced, not followed
	return r.WriteFile(rel, b, perm)
}

// newLayout prepares the host side of the mount table. Each run's flash
// layer (the root) and each volatile mount is a tmpfs of its own, mounted
// here with the profile's device name and a size: the declared size= for
// a volatile mount, else disk/4; disk for the root. A sample cannot write
// past them, and the sandbox's /proc/mounts names the profile's devices,
// not the host's disk. Writable flash mounts below a read-only root (the
// DVR's jffs2 /mnt/mtd) are bound on their own so they stay writable.
// withRoot false leaves the root to the caller (the simulated reboot keeps
// the run's flash layer).
func newLayout(runDir, mountsText string, disk int64, withRoot bool) (*layout, error) {
	if strings.TrimSpace(mountsText) == "" {
		mountsText = DefaultMounts
	}
	l := &layout{root: filepath.Join(runDir, "root"), mounts: parseMounts(mountsText)}
	rootDev := "/dev/root"
	for _, m := range l.mounts {
		if m.Point == "/" && m.Type != "rootfs" {
			rootDev = m.Dev
		}
	}
	if withRoot {
		if err := l.tmpfs(rootDev, l.root, "/", disk, 0o755); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, m := range l.mounts {
		switch m.Point {
		case "/proc", "/dev", "/sys", "/":
			if m.Point == "/" && hasOpt(m.Opts, "ro") && m.Type != "rootfs" {
				l.readOnly = append(l.readOnly, "/")
			}
			continue
		}
		if strings.HasPrefix(m.Point, "/proc/") || strings.HasPrefix(m.Point, "/sys/") || strings.HasPrefix(m.Point, "/dev/") || seen[m.Point] {
			continue
		}
		seen[m.Point] = true
		switch {
		case volatileTypes[m.Type]:
			dir := filepath.Join(runDir, "vol", fmt.Sprint(len(l.volatile)))
			size := disk / 4
			if n := optSize(m.Opts); n > 0 {
				size = min(n, disk)
			}
			mode := os.FileMode(0o755)
			if m.Point == "/tmp" || strings.HasSuffix(m.Point, "/tmp") {
				mode = 0o1777
			}
			if err := l.tmpfs(m.Dev, dir, m.Point, size, mode); err != nil {
				l.unmount()
				return nil, err
			}
			l.volatile = append(l.volatile, bindMount{Src: dir, Dst: m.Point})
		case hasOpt(m.Opts, "ro"):
			l.readOnly = append(l.readOnly, m.Point)
		default:
			l.flash = append(l.flash, m.Point)
		}
	}
	// Read-only remounts must come after the volatile binds below them are
	// made, and parents before children.
	sort.Strings(l.readOnly)
	sort.Strings(l.flash)
	return l, nil
}

// tmpfs mounts a tmpfs of size bytes at dir, named dev as the profile
// names the mount's device.
func (l *layout) tmpfs(dev, dir, point string, size int64, mode os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if dev == "" || strings.ContainsAny(dev, ", \t\n") {
		dev = "tmpfs"
	}
	opts := fmt.Sprintf("size=%d,mode=%o", size, mode)
	if err := syscall.Mount(dev, dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount tmpfs for %s: %w", point, err)
	}
	l.mounted = append(l.mounted, dir)
	l.enforced = append(l.enforced, fmt.Sprintf("disk: tmpfs %s %d bytes", point, size))
	return nil
}

// unmount undoes newLayout's mounts.
func (l *layout) unmount() {
	for i := len(l.mounted) - 1; i >= 0; i-- {
		syscall.Unmount(l.mounted[i], syscall.MNT_DETACH)
	}
	l.mounted = nil
}

// optSize reads a mount's size= option (bytes, or with k, m, g).
func optSize(opts string) int64 {
	for _, o := range strings.Split(opts, ",") {
		v, ok := strings.CutPrefix(o, "size=")
		if !ok || v == "" {
			continue
		}
		mul := int64(1)
		switch v[len(v)-1] | 0x20 {
		case 'k':
			mul = 1 << 10
		case 'm':
			mul = 1 << 20
		case 'g':
			mul = 1 << 30
		}
		if mul > 1 {
			v = v[:len(v)-1]
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > 1<<40/mul {
			return 0
		}
		return n * mul
	}
	return 0
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

// copyFS writes src into dst; symlinks are kept where the FS can read them.
// Writes go through os.Root, so a hostile image's symlinks never lead
// outside dst. Sizes and counts are bounded so it cannot fill the disk.
func copyFS(dst string, src fs.FS) error {
	const maxFiles, maxBytes = 100000, 1 << 30
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	var files, total int64
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return nil // unreadable parts of a firmware image are skipped
		}
		if files++; files > maxFiles {
			return errors.New("root filesystem has too many files")
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if rl, ok := src.(fs.ReadLinkFS); ok {
				if link, err := rl.ReadLink(p); err == nil {
					root.Remove(p)
					root.Symlink(link, p)
				}
			}
			return nil
		}
		if d.IsDir() {
			if err := root.MkdirAll(p, 0o755); err != nil {
				return fs.SkipDir // e.g. a symlink already stands there
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if total += info.Size(); total > maxBytes {
			return errors.New("root filesystem larger than 1 GiB")
		}
		in, err := src.Open(p)
		if err != nil {
			return nil
		}
		defer in.Close()
		root.Remove(p)
		out, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm()|0o200)
		if err != nil {
			return nil // e.g. its directory is a symlink out of the tree
		}
		if _, err := io.Copy(out, io.LimitReader(in, maxBytes)); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// hostBusybox is the native static shell that stands in for the device's
// /bin/sh: there is no binfmt_misc on the host side to run the device's own.
const hostBusybox = "/bin/busybox"

// installShell puts the native busybox at /bin/sh (and, on a root without
// one, at /bin/busybox with the usual applets), replacing a guest shell.
func installShell(dir string) error {
	b, err := os.ReadFile(hostBusybox)
	if err != nil {
		return fmt.Errorf("read %s: %w", hostBusybox, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if fi, err := root.Lstat("bin"); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// /bin → usr/bin and the like: follow it inside the tree
		if target, err := root.Readlink("bin"); err == nil {
			// relative targets resolve from /, where bin stands
			bin := strings.TrimPrefix(path.Clean(path.Join("/", target)), "/")
			if bin != "" && bin != "bin" {
				return installShellIn(root, bin, b)
			}
		}
		root.Remove("bin")
	}
	return installShellIn(root, "bin", b)
}

func installShellIn(root *os.Root, bin string, b []byte) error {
	if err := root.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	sh := path.Join(bin, "sh")
	if fi, err := root.Lstat(sh); err == nil && fi.IsDir() {
		return errors.New("/bin/sh is a directory")
	}
	root.Remove(sh)
	if err := root.WriteFile(sh, b, 0o755); err != nil {
		return err
	}
	if _, err := root.Lstat(path.Join(bin, "busybox")); err == nil {
		return nil
	}
	if err := root.WriteFile(path.Join(bin, "busybox"), b, 0o755); err != nil {
		return err
	}
	for _, a := range []string{"ash", "cat", "chmod", "cp", "echo", "kill", "ls", "mkdir", "mv", "ps", "rm", "sleep", "wget", "tftp", "crond", "crontab", "mount", "ln", "touch", "grep", "sed", "head", "tail", "uname", "id", "ifconfig", "reboot", "nc", "telnetd", "killall", "pidof"} {
		root.Symlink("busybox", path.Join(bin, a))
	}
	return nil
}

// defaultRoot is the minimal root filesystem of the default device.
var defaultRoot = map[string]string{
	"etc/passwd":         "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000:admin:/home/admin:/bin/sh\n",
	"etc/group":          "root:x:0:\nadmin:x:1000:\n",
	"etc/shadow":         "root:$1$kansoku$QFhzLyyOeZvN3ruZ.Zvkp1:18000:0:99999:7:::\n",
	"etc/hostname":       "router\n",
	"etc/hosts":          "127.0.0.1 localhost\n",
	"etc/resolv.conf":    "nameserver 127.0.0.53\n",
	"etc/inittab":        "::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\n::shutdown:/bin/umount -a -r\n",
	"etc/init.d/rcS":     "#!/bin/sh\n# start every S?? script in order, as Buildroot's rcS does\nfor i in /etc/init.d/S??*; do\n  [ -x \"$i\" ] || continue\n  \"$i\" start\ndone\n",
	"etc/crontabs/.keep": "",
	"etc/fstab":          "proc /proc proc defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\ntmpfs /var tmpfs defaults 0 0\n",
	"etc/banner":         "BusyBox v1.24.1 () built-in shell (ash)\n",
	"root/.keep":         "",
	"usr/bin/.keep":      "",
	"usr/sbin/.keep":     "",
	"sbin/.keep":         "",
	"tmp/.keep":          "",
	"var/.keep":          "",
}

func writeDefaultRoot(root string) error {
	for p, content := range defaultRoot {
		t := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(t), 0o755); err != nil {
			return err
		}
		if strings.HasSuffix(p, "/.keep") {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "etc/init.d/") {
			mode = 0o755
		}
		if err := os.WriteFile(t, []byte(content), mode); err != nil {
			return err
		}
	}
	return nil
}

// defaultCPUInfo is a plausible /proc/cpuinfo per architecture.
func defaultCPUInfo(arch string) string {
	switch arch {
	case "arm", "armeb":
		return "processor\t: 0\nmodel name\t: ARMv7 Processor rev 1 (v7l)\nBogoMIPS\t: 1332.00\nFeatures\t: half thumb fastmult vfp edsp neon vfpv3 tls\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU part\t: 0xc09\nHardware\t: Generic DT based system\n"
	case "aarch64":
		return "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd03\n"
	case "mips", "mipsel", "mips64", "mips64el":
		return "system type\t\t: MediaTek MT7621 ver:1 eco:3\nmachine\t\t\t: Generic\nprocessor\t\t: 0\ncpu model\t\t: MIPS 1004Kc V2.15\nBogoMIPS\t\t: 586.13\n"
	case "powerpc", "ppc64", "ppc64le":
		return "processor\t: 0\ncpu\t\t: e500v2\nclock\t\t: 800.000000MHz\nplatform\t: P1020 RDB\n"
	case "sh4", "sh4eb":
		return "machine\t\t: STB7100\nprocessor\t: 0\ncpu family\t: sh4\ncpu type\t: SH7109\n"
	case "m68k":
		return "CPU:\t\t68040\nMMU:\t\t68040\nFPU:\t\t68040\n"
	case "sparc", "sparc64":
		return "cpu\t\t: Fujitsu  MB86904\nfpu\t\t: Lsi Logic/Meiko L64804 or compatible\n"
	}
	return "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Atom(TM) CPU D525 @ 1.80GHz\ncpu cores\t: 1\n"
}

// chownTree gives the tree to host id (uid and gid). WalkDir does not
// follow symlinks and Lchown changes links themselves.
func chownTree(dir string, id int) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id, id)
	})
}
