// Package sandbox runs a captured sample — an ELF for any of the usual IoT
// architectures — under qemu-user inside fresh user, PID, mount, IPC, UTS
// and network namespaces, on a throwaway copy of the capturing device's
// root filesystem, with rlimits, cgroup limits and a hard timeout. The
// host's strace follows every process; the network namespace's only peer is
// the fake Internet (package fakenet). The result is a Report: process tree,
// files, DNS, connections, C2 candidates, scanning, exploits, download URLs,
// watchdog tampering, self-deletion and a persistence verdict proved by a
// simulated reboot.
//
// The sandbox re-executes the current binary for the parts that must live
// inside the namespaces: every program that calls Run must call
// MaybeRunHelper first thing in main (and tests in TestMain).
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strings"
	"time"
)

// Device is the device the sample believes it runs on (built from a
// honeypot profile or imported with ImportRootFS).
type Device struct {
	Arch        string   // arm, armv7, aarch64, mips, mipsel, powerpc, ppc64, sh4, m68k, sparc, x86, x86_64
	RootFS      fs.FS    // files of the device; nil → a minimal default root filesystem
	CPUInfo     string   // shown at /proc/cpuinfo
	Mounts      string   // /proc/mounts text: tmpfs (volatile) vs flash (persistent)
	BootScripts []string // run at boot, e.g. /etc/init.d/rcS, /etc/rc.local
	Hostname    string
}

// Options bound and shape one run. Zero values mean the defaults.
type Options struct {
	Timeout      time.Duration // hard wall timeout, default 60s
	CPUSeconds   int64         // RLIMIT_CPU per process, default 60
	MemoryBytes  int64         // memory cgroup limit, default 512 MiB
	MaxProcs     int64         // tasks (processes and threads), default 256
	MaxFileBytes int64         // RLIMIT_FSIZE, default 16 MiB
	DiskBytes    int64         // size of the run's root tmpfs (each volatile mount: its declared size, else a quarter), default 256 MiB
	Network      NetworkPolicy // default FakeInternet
	Reboot       bool          // also run the simulated reboot
	Logger       *slog.Logger

	// Extensions.
	SampleName string // file name of the sample inside the sandbox (default: sha256 prefix)
	// Argv and Cwd run the sample as the attacker did: argv[0] as typed
	// ("./dvrHelper"), its arguments ("telnet.mpsl") and the working
	// directory ("/var"); the sample is placed at Cwd/argv[0]. Bots that
	// check their name or arguments take their real path only so. Empty:
	// /tmp/<SampleName> with no arguments, from /.
	Argv     []string
	Cwd      string
	Exploits ExploitMatcher // default: DefaultExploits (internal/intel)
	BootWait time.Duration  // how long the simulated reboot runs, default Timeout/2
}

// Defaults.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultCPUSeconds   = 60
	DefaultMemoryBytes  = 512 << 20
	DefaultMaxProcs     = 256
	DefaultMaxFileBytes = 16 << 20
	DefaultDiskBytes    = 256 << 20
	MaxSampleBytes      = 64 << 20
)

// Errors callers test.
var (
	ErrUnavailable = errors.New("sandbox: unavailable")
	ErrNotELF      = errors.New("sandbox: sample is neither an ELF executable nor a script")
	ErrArch        = errors.New("sandbox: unsupported architecture")
)

// Validate reports the first option that cannot work.
func (o Options) Validate() error {
	for _, v := range []struct {
		name string
		val  int64
	}{{"timeout", int64(o.Timeout)}, {"cpu_seconds", o.CPUSeconds}, {"memory_bytes", o.MemoryBytes},
		{"max_procs", o.MaxProcs}, {"max_file_bytes", o.MaxFileBytes}, {"disk_bytes", o.DiskBytes}, {"boot_wait", int64(o.BootWait)}} {
		if v.val < 0 {
			return fmt.Errorf("sandbox: %s must not be negative", v.name)
		}
	}
	if o.DiskBytes > 0 && o.DiskBytes < 8<<20 {
		return fmt.Errorf("sandbox: disk_bytes below 8 MiB cannot hold a device's root filesystem")
	}
	if o.MemoryBytes > 0 && o.MemoryBytes < 16<<20 {
		return fmt.Errorf("sandbox: memory_bytes below 16 MiB cannot run qemu")
	}
	if o.MaxProcs > 0 && o.MaxProcs < 8 {
		return fmt.Errorf("sandbox: max_procs below 8 cannot run a threaded sample")
	}
	if len(o.Argv) > 0 {
		if _, err := o.samplePath(); err != nil {
			return err
		}
	}
	return nil
}

// samplePath is where Argv and Cwd place the sample.
func (o Options) samplePath() (string, error) {
	if len(o.Argv) > 64 || len(o.Argv[0]) == 0 || len(o.Cwd) > 1024 {
		return "", errors.New("sandbox: argv must have 1..64 entries and a program")
	}
	for _, a := range o.Argv {
		if len(a) > 4096 || strings.IndexByte(a, 0) >= 0 {
			return "", errors.New("sandbox: argv entry too long or with a NUL")
		}
	}
	cwd := path.Clean("/" + o.Cwd)
	p := path.Clean(path.Join(cwd, o.Argv[0]))
	if path.IsAbs(o.Argv[0]) {
		p = path.Clean(o.Argv[0])
	}
	for _, bad := range []string{"/", "/proc", "/dev", "/sys"} {
		if p == bad || bad != "/" && strings.HasPrefix(p, bad+"/") {
			return "", fmt.Errorf("sandbox: cannot place the sample at %s", p)
		}
	}
	return p, nil
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CPUSeconds <= 0 {
		o.CPUSeconds = DefaultCPUSeconds
	}
	if o.MemoryBytes <= 0 {
		o.MemoryBytes = DefaultMemoryBytes
	}
	if o.MaxProcs <= 0 {
		o.MaxProcs = DefaultMaxProcs
	}
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.DiskBytes <= 0 {
		o.DiskBytes = DefaultDiskBytes
	}
	if o.Network == nil {
		o.Network = FakeInternet{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Exploits == nil {
		o.Exploits, _ = DefaultExploits() // checked in Run
	}
	if o.BootWait <= 0 {
		o.BootWait = max(o.Timeout/2, 3*time.Second)
	}
	return o
}

// Run analyses sample on dev: an ELF of any architecture qemu-user knows,
// or a shell script (run by the native shell). It returns an error alone
// when the sandbox could not run at all, and the partial report with
// ctx's error when ctx ended the run. Whatever the sample did (crash,
// hang, fork bomb) is in the Report, not an error.
func Run(ctx context.Context, sample []byte, dev Device, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if len(sample) > MaxSampleBytes {
		return nil, errors.New("sandbox: sample larger than 64 MiB")
	}
	if err := Available(); err != nil {
		return nil, err
	}
	if opts.Exploits == nil {
		_, err := DefaultExploits()
		return nil, fmt.Errorf("sandbox: exploit signatures: %w", err)
	}
	return run(ctx, sample, dev, opts)
}
