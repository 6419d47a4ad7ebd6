// Package profile describes the devices the IoT honeypot pretends to be. A
// profile is plain data in a directory (profile.yaml plus a rootfs/ tree), so
// new devices, including ones learnt from real hardware, are added without
// code. Instantiate turns a profile into one installation's unique Device.
package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limits on what a profile may carry; profiles can come from outside (the
// adaptive mode learns them), so they are bounded like any other input.
const (
	maxProfileYAML = 1 << 20
	maxRootFSBytes = 4 << 20
	maxRootFSFiles = 2000
	maxFileBytes   = 512 << 10
)

// Arches are the CPU architectures a profile may declare.
var Arches = []string{"arm", "armv7", "aarch64", "mips", "mipsel", "powerpc", "sh4", "x86", "x86_64"}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid profile")

// Profile is one device model. Field names follow profile.yaml.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Device      struct {
		Vendor string `yaml:"vendor"`
		Model  string `yaml:"model"`
		Type   string `yaml:"type"` // router, camera, ont, nas, board, …
	} `yaml:"device"`
	Arch   string `yaml:"arch"`
	Endian string `yaml:"endian"` // little or big
	// ELFFlags overrides the e_flags of synthetic binaries (0 = arch default).
	ELFFlags uint32 `yaml:"elf_flags"`

	// Hostname is a pattern: {hexN}/{HEXN} are N random hex digits,
	// {decN} N random decimal digits, {mac4} the last 4 hex digits of the
	// first MAC address.
	Hostname string `yaml:"hostname"`
	// Serial is a pattern like Hostname.
	Serial string `yaml:"serial"`
	// OUI is the vendor's MAC prefix, "00:12:34".
	OUI string `yaml:"oui"`

	Telnet Telnet `yaml:"telnet"`
	CLI    CLI    `yaml:"cli"`
	Shell  struct {
		// Prompt uses BusyBox PS1 escapes: \u user, \h hostname, \w cwd
		// (~ for home), \W basename of cwd, \$ '#' for root else '$'.
		Prompt string `yaml:"prompt"`
		Home   string `yaml:"home"`
		Path   string `yaml:"path"`
		// OutputRate is the bytes per second the device's telnetd/dropbear
		// delivers a long output at (a 400 KB cat is not instant on a
		// 500 MHz MIPS); 0 takes a default for the architecture.
		OutputRate int `yaml:"output_rate"`
	} `yaml:"shell"`
	BusyBox BusyBox `yaml:"busybox"`
	Uname   Uname   `yaml:"uname"`

	CPUInfo string `yaml:"cpuinfo"`
	// ProcVersion is /proc/version: the firmware's kernel build line (the
	// builder and toolchain of that vendor's SDK). Devices of one firmware
	// share it; profiles must not. Empty: built from Uname.
	ProcVersion string `yaml:"proc_version"`
	// Cmdline is /proc/cmdline, the boot loader's kernel arguments.
	Cmdline string `yaml:"cmdline"`
	// Mounts is /proc/mounts; the sandbox reads it to decide which paths
	// survive a reboot (tmpfs, ramfs, proc, sysfs do not).
	Mounts    string      `yaml:"mounts"`
	Memory    Memory      `yaml:"memory"`
	Disks     []Disk      `yaml:"disks"`
	Processes []Process   `yaml:"processes"`
	Network   []Interface `yaml:"network"`
	SSH       SSH         `yaml:"ssh"`
	// BootScripts are the rootfs paths run at boot (inittab, rcS, …).
	BootScripts []string `yaml:"boot_scripts"`
	// Modes sets permissions of rootfs files ("/etc/init.d/rcS": 0755);
	// others are 0644 (files) and 0755 (directories).
	Modes map[string]uint32 `yaml:"modes"`
	// Symlinks adds symbolic links to the tree ("/var": "/tmp/var").
	Symlinks map[string]string `yaml:"symlinks"`

	// Files is the rootfs tree keyed by absolute path, filled by Load.
	Files map[string]*File `yaml:"-"`
	// Dir is where the profile was loaded from (for messages).
	Dir string `yaml:"-"`
}

// File is one rootfs entry.
type File struct {
	Mode   fs.FileMode // includes fs.ModeDir / fs.ModeSymlink
	Data   []byte
	Target string // symlink target
}

// Telnet is what the device's telnetd sends.
type Telnet struct {
	// Options are the option bytes sent first, as hex ("fffb01 fffb03").
	Options        string `yaml:"options"`
	Banner         string `yaml:"banner"`
	LoginPrompt    string `yaml:"login_prompt"`
	PasswordPrompt string `yaml:"password_prompt"`
	LoginFailed    string `yaml:"login_failed"`
	// Motd is printed after a successful login.
	Motd string `yaml:"motd"`
}

// CLI is a vendor command line shown before the BusyBox shell.
type CLI struct {
	Mode   string `yaml:"mode"` // "none" or a vendor name
	Prompt string `yaml:"prompt"`
	Banner string `yaml:"banner"`
	// Escapes are the commands that drop into the BusyBox shell.
	Escapes []string `yaml:"escapes"`
	// Unknown is printed for other commands; %s is the command.
	Unknown string `yaml:"unknown"`
}

// BusyBox describes the device's busybox binary.
type BusyBox struct {
	// Banner is the first line of `busybox` output.
	Banner  string   `yaml:"banner"`
	Applets []string `yaml:"applets"`
	// Size of /bin/busybox in bytes.
	Size int `yaml:"size"`
	// DDBytesLine: dd prints the "N bytes (…) copied" line.
	DDBytesLine bool `yaml:"dd_bytes_line"`
}

// Uname holds the uname fields (nodename is the hostname).
type Uname struct {
	Sysname string `yaml:"sysname"`
	Release string `yaml:"release"`
	Version string `yaml:"version"`
	Machine string `yaml:"machine"`
	OS      string `yaml:"os"`
}

// Memory figures in KiB.
type Memory struct {
	TotalKB   int `yaml:"total_kb"`
	FreeKB    int `yaml:"free_kb"`
	SharedKB  int `yaml:"shared_kb"`
	BuffersKB int `yaml:"buffers_kb"`
	CachedKB  int `yaml:"cached_kb"`
	SwapKB    int `yaml:"swap_kb"`
}

// Disk is one df line.
type Disk struct {
	Filesystem string `yaml:"filesystem"`
	SizeKB     int    `yaml:"size_kb"`
	UsedKB     int    `yaml:"used_kb"`
	Mount      string `yaml:"mount"`
}

// Process is one entry of the process list; PIDs are drawn per install.
type Process struct {
	User    string `yaml:"user"`
	VSZ     string `yaml:"vsz"`
	Stat    string `yaml:"stat"`
	Command string `yaml:"command"`
	// Kernel threads get the low consecutive PIDs after init.
	Kernel bool `yaml:"kernel"`
}

// Interface is a network interface.
type Interface struct {
	Name string `yaml:"name"`
	// IPv4 is "a.b.c.d/len"; with Pool set the address is drawn from the
	// pool per install and IPv4 may be empty.
	IPv4 string `yaml:"ipv4"`
	Pool string `yaml:"pool"`
	MTU  int    `yaml:"mtu"`
	// NoMAC is set for loopback and point-to-point links.
	NoMAC bool `yaml:"no_mac"`
}

// SSH is the identity of the device's SSH daemon, lists in its own order.
type SSH struct {
	Version      string   `yaml:"version"`
	KEX          []string `yaml:"kex"`
	HostKeyTypes []string `yaml:"host_key_types"`
	Ciphers      []string `yaml:"ciphers"`
	MACs         []string `yaml:"macs"`
	Compression  []string `yaml:"compression"`
}

// Load reads every profile in dir: each subdirectory holding a
// profile.yaml, or dir itself if it holds one.
func Load(dir string) ([]*Profile, error) {
	fsys := os.DirFS(dir)
	if _, err := fs.Stat(fsys, "profile.yaml"); err == nil {
		p, err := loadFS(fsys, dir)
		if err != nil {
			return nil, err
		}
		return []*Profile{p}, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("profile: load %s: %w", dir, err)
	}
	var out []*Profile
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub := path.Join(dir, e.Name())
		if _, err := os.Stat(path.Join(sub, "profile.yaml")); err != nil {
			continue
		}
		p, err := loadFS(os.DirFS(sub), sub)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("profile: load %s: %w: no profile.yaml found", dir, ErrInvalid)
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

func checkUnique(ps []*Profile) error {
	seen := map[string]string{}
	for _, p := range ps {
		if d, ok := seen[p.Name]; ok {
			return fmt.Errorf("profile: %s/profile.yaml: name: %w: %q also used by %s", p.Dir, ErrInvalid, p.Name, d)
		}
		seen[p.Name] = p.Dir
	}
	return nil
}

// ByName returns the profile called name, or nil.
func ByName(ps []*Profile, name string) *Profile {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func loadFS(fsys fs.FS, dir string) (*Profile, error) {
	file := path.Join(dir, "profile.yaml")
	f, err := fsys.Open("profile.yaml")
	if err != nil {
		return nil, fmt.Errorf("profile: %s: %w", file, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProfileYAML+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("profile: read %s: %w", file, err)
	}
	if len(data) > maxProfileYAML {
		return nil, fmt.Errorf("profile: %s: %w: larger than %d bytes", file, ErrInvalid, maxProfileYAML)
	}
	p := &Profile{Dir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("profile: %s: %w: %v", file, ErrInvalid, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("profile: %s: %w", file, err)
	}
	p.applyDefaults()
	if err := p.loadRootFS(fsys); err != nil {
		return nil, fmt.Errorf("profile: %s: %w", path.Join(dir, "rootfs"), err)
	}
	return p, nil
}

var patternRE = regexp.MustCompile(`\{(hex|HEX|dec)([0-9]+)\}|\{mac4\}`)

func fieldErr(field, format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s", field, ErrInvalid, fmt.Sprintf(format, a...))
}

func (p *Profile) validate() error {
	req := []struct{ field, v string }{
		{"name", p.Name}, {"arch", p.Arch}, {"hostname", p.Hostname},
		{"oui", p.OUI}, {"shell.prompt", p.Shell.Prompt},
		{"telnet.login_prompt", p.Telnet.LoginPrompt}, {"telnet.password_prompt", p.Telnet.PasswordPrompt},
		{"busybox.banner", p.BusyBox.Banner}, {"uname.release", p.Uname.Release},
		{"uname.machine", p.Uname.Machine}, {"cpuinfo", p.CPUInfo}, {"mounts", p.Mounts},
		{"ssh.version", p.SSH.Version},
	}
	for _, r := range req {
		if strings.TrimSpace(r.v) == "" {
			return fieldErr(r.field, "required")
		}
	}
	if !regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`).MatchString(p.Name) {
		return fieldErr("name", "%q: want lower-case letters, digits, '.', '_', '-'", p.Name)
	}
	if !contains(Arches, p.Arch) {
		return fieldErr("arch", "%q: want one of %s", p.Arch, strings.Join(Arches, ", "))
	}
	want := archInfo[p.Arch].endian
	if p.Endian == "" {
		p.Endian = want
	}
	if p.Endian != want {
		return fieldErr("endian", "%q: arch %s is %s-endian", p.Endian, p.Arch, want)
	}
	if _, err := parseOUI(p.OUI); err != nil {
		return fieldErr("oui", "%v", err)
	}
	if _, err := ParseOptions(p.Telnet.Options); err != nil {
		return fieldErr("telnet.options", "%v", err)
	}
	switch p.CLI.Mode {
	case "", "none":
	default:
		if p.CLI.Prompt == "" {
			return fieldErr("cli.prompt", "required when cli.mode is %q", p.CLI.Mode)
		}
		if len(p.CLI.Escapes) == 0 {
			return fieldErr("cli.escapes", "required when cli.mode is %q", p.CLI.Mode)
		}
	}
	if len(p.BusyBox.Applets) == 0 {
		return fieldErr("busybox.applets", "required")
	}
	for i, a := range p.BusyBox.Applets {
		if !regexp.MustCompile(`^[a-z0-9_.\[-]+$`).MatchString(a) && a != "[[" {
			return fieldErr(fmt.Sprintf("busybox.applets[%d]", i), "%q is not an applet name", a)
		}
	}
	if p.BusyBox.Size < 0 || p.BusyBox.Size > 8<<20 {
		return fieldErr("busybox.size", "%d out of range 0..8 MiB", p.BusyBox.Size)
	}
	if !strings.HasPrefix(p.SSH.Version, "SSH-2.0-") {
		return fieldErr("ssh.version", "%q must start with SSH-2.0-", p.SSH.Version)
	}
	for _, l := range []struct {
		f string
		v []string
	}{{"ssh.kex", p.SSH.KEX}, {"ssh.ciphers", p.SSH.Ciphers}, {"ssh.macs", p.SSH.MACs}, {"ssh.host_key_types", p.SSH.HostKeyTypes}} {
		if len(l.v) == 0 {
			return fieldErr(l.f, "required")
		}
	}
	for i, n := range p.Network {
		f := fmt.Sprintf("network[%d]", i)
		if n.Name == "" {
			return fieldErr(f+".name", "required")
		}
		if n.IPv4 != "" {
			if _, err := parsePrefix(n.IPv4); err != nil {
				return fieldErr(f+".ipv4", "%v", err)
			}
		}
		if n.Pool != "" {
			if _, err := parsePrefix(n.Pool); err != nil {
				return fieldErr(f+".pool", "%v", err)
			}
		}
	}
	for i, pr := range p.Processes {
		if pr.Command == "" {
			return fieldErr(fmt.Sprintf("processes[%d].command", i), "required")
		}
	}
	for _, pat := range []struct{ f, v string }{{"hostname", p.Hostname}, {"serial", p.Serial}} {
		for _, m := range patternRE.FindAllStringSubmatch(pat.v, -1) {
			if m[2] != "" && (len(m[2]) > 2 || m[2] == "0") {
				return fieldErr(pat.f, "%s: digit count must be 1..99", m[0])
			}
		}
	}
	for k := range p.Modes {
		if !path.IsAbs(k) {
			return fieldErr("modes", "%q is not an absolute path", k)
		}
	}
	for k, v := range p.Symlinks {
		if !path.IsAbs(k) || v == "" {
			return fieldErr("symlinks", "%q -> %q: want an absolute path and a target", k, v)
		}
	}
	for i, b := range p.BootScripts {
		if !path.IsAbs(b) {
			return fieldErr(fmt.Sprintf("boot_scripts[%d]", i), "%q is not an absolute path", b)
		}
	}
	return nil
}

// defaultOutputRate is a terminal's throughput by CPU class: the pty and
// telnetd/dropbear copy loop on a 400-600 MHz MIPS or ARM SoC moves a few
// hundred KB/s; 64-bit boards and x86 NAS boxes are much faster.
var defaultOutputRate = map[string]int{
	"mips": 300 << 10, "mipsel": 300 << 10, "arm": 400 << 10, "armv7": 600 << 10, "sh4": 300 << 10,
	"powerpc": 500 << 10, "aarch64": 2 << 20, "x86": 4 << 20, "x86_64": 8 << 20,
}

func (p *Profile) applyDefaults() {
	if p.CLI.Mode == "" {
		p.CLI.Mode = "none"
	}
	if p.Shell.Home == "" {
		p.Shell.Home = "/root"
	}
	if p.Shell.Path == "" {
		p.Shell.Path = "/bin:/sbin:/usr/bin:/usr/sbin"
	}
	if p.ProcVersion == "" {
		p.ProcVersion = fmt.Sprintf("Linux version %s (root@localhost) (gcc version 4.8.5) %s", p.Uname.Release, p.Uname.Version)
	}
	if p.Cmdline == "" {
		p.Cmdline = "console=ttyS0,115200 root=/dev/mtdblock2 rootfstype=squashfs init=/sbin/init"
	}
	if p.Shell.OutputRate == 0 {
		p.Shell.OutputRate = defaultOutputRate[p.Arch]
	}
	if p.Uname.Sysname == "" {
		p.Uname.Sysname = "Linux"
	}
	if p.Uname.OS == "" {
		p.Uname.OS = "GNU/Linux"
	}
	if p.BusyBox.Size == 0 {
		p.BusyBox.Size = 600 << 10
	}
	if p.CLI.Unknown == "" {
		p.CLI.Unknown = "%% Unknown command: %s"
	}
}

func (p *Profile) loadRootFS(fsys fs.FS) error {
	p.Files = map[string]*File{"/": {Mode: fs.ModeDir | 0o755}}
	var total int64
	sub, err := fs.Sub(fsys, "rootfs")
	if err != nil {
		return err
	}
	if _, err := fs.Stat(sub, "."); err == nil {
		err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if name == "." {
				return nil
			}
			if len(p.Files) >= maxRootFSFiles {
				return fmt.Errorf("%w: more than %d files", ErrInvalid, maxRootFSFiles)
			}
			abs := "/" + name
			if d.IsDir() {
				p.Files[abs] = &File{Mode: fs.ModeDir | 0o755}
				return nil
			}
			if d.Name() == ".keep" {
				return nil // git placeholder for an otherwise empty directory
			}
			if !d.Type().IsRegular() {
				return nil // only regular files; links come from profile.yaml
			}
			data, err := fs.ReadFile(sub, name)
			if err != nil {
				return err
			}
			if len(data) > maxFileBytes {
				return fmt.Errorf("%s: %w: larger than %d bytes", name, ErrInvalid, maxFileBytes)
			}
			total += int64(len(data))
			if total > maxRootFSBytes {
				return fmt.Errorf("%w: tree larger than %d bytes", ErrInvalid, maxRootFSBytes)
			}
			p.Files[abs] = &File{Mode: 0o644, Data: data}
			return nil
		})
		if err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(p.Symlinks))
	for k := range p.Symlinks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.mkParents(k)
		p.Files[path.Clean(k)] = &File{Mode: fs.ModeSymlink | 0o777, Target: p.Symlinks[k]}
	}
	for k, m := range p.Modes {
		f, ok := p.Files[path.Clean(k)]
		if !ok {
			return fmt.Errorf("modes: %w: %s is not in rootfs", ErrInvalid, k)
		}
		f.Mode = f.Mode&fs.ModeType | fs.FileMode(m)&fs.ModePerm
	}
	return nil
}

func (p *Profile) mkParents(name string) {
	for d := path.Dir(path.Clean(name)); d != "/"; d = path.Dir(d) {
		if _, ok := p.Files[d]; !ok {
			p.Files[d] = &File{Mode: fs.ModeDir | 0o755}
		}
	}
}

// Persistent reports whether writes under dir survive a reboot according to
// the profile's mount table: false when the longest mount prefix of dir is
// a RAM-backed filesystem.
func (p *Profile) Persistent(dir string) bool {
	dir = p.Resolve(dir)
	best, fstype, opts := "", "", ""
	for _, line := range strings.Split(p.Mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (dir == mp || mp == "/" || strings.HasPrefix(dir, mp+"/")) && len(mp) >= len(best) {
			best, fstype = mp, f[2]
			opts = ""
			if len(f) > 3 {
				opts = f[3]
			}
		}
	}
	if contains(strings.Split(opts, ","), "ro") {
		return false
	}
	switch fstype {
	case "tmpfs", "ramfs", "proc", "sysfs", "devtmpfs", "devpts", "debugfs", "usbfs", "":
		return false
	case "rootfs", "squashfs", "cramfs", "romfs":
		return false // read-only images: nothing written there can stay
	}
	return true
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Resolve follows the rootfs symbolic links in name (at most 16) and
// returns the cleaned absolute path.
func (p *Profile) Resolve(name string) string {
	name = path.Clean("/" + name)
	for hops := 0; hops < 16; hops++ {
		changed := false
		parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
		cur := "/"
		for i, part := range parts {
			next := path.Join(cur, part)
			if f := p.Files[next]; f != nil && f.Mode&fs.ModeSymlink != 0 {
				t := f.Target
				if !path.IsAbs(t) {
					t = path.Join(cur, t)
				}
				name = path.Join(append([]string{t}, parts[i+1:]...)...)
				changed = true
				break
			}
			cur = next
		}
		if !changed {
			return name
		}
	}
	return name
}
