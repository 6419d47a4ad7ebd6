package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	availOnce sync.Once
	availErr  error
)

// Available reports why the sandbox cannot run here, or nil. It needs root
// (for the uid map and cgroups), qemu-user-static, strace, nftables,
// iproute2, a static busybox and a kernel with user-namespaced binfmt_misc.
func Available() error {
	availOnce.Do(func() { availErr = available() })
	return availErr
}

func available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root for the uid map and cgroups", ErrUnavailable)
	}
	for _, t := range []string{"strace", "nft", "ip"} {
		if _, err := lookTool(t); err != nil {
			return fmt.Errorf("%w: %s not found", ErrUnavailable, t)
		}
	}
	if _, err := os.Stat(hostBusybox); err != nil {
		return fmt.Errorf("%w: static busybox (busybox-static) not found at %s", ErrUnavailable, hostBusybox)
	}
	if _, err := binfmtEntries(); err != nil {
		return fmt.Errorf("%w: qemu-user-static: %v", ErrUnavailable, err)
	}
	fsys, err := os.ReadFile("/proc/filesystems")
	if err != nil || !bytes.Contains(fsys, []byte("binfmt_misc")) {
		return fmt.Errorf("%w: kernel has no binfmt_misc", ErrUnavailable)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		rel := strings.TrimSpace(string(b))
		if !kernelAtLeast(rel, 6, 7) {
			return fmt.Errorf("%w: kernel %s has no binfmt_misc per user namespace (needs 6.7)", ErrUnavailable, rel)
		}
	}
	return nil
}

// kernelAtLeast compares a release string such as "6.18.44-fc".
func kernelAtLeast(rel string, major, minor int) bool {
	f := strings.FieldsFunc(rel, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		return false
	}
	ma, _ := strconv.Atoi(f[0])
	mi, _ := strconv.Atoi(f[1])
	return ma > major || ma == major && mi >= minor
}

func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// attempt is one execution inside fresh namespaces: the sample's run or
// the simulated reboot.
type attempt struct {
	runDir  string
	lay     *layout
	exe     string // path of the program; "" is argv[0]
	argv    []string
	cwd     string // "" is /
	timeout time.Duration
	dev     Device
	opts    Options
}

// outcome is what an attempt leaves for the analysis.
type outcome struct {
	trace    []byte
	netlog   []fakeRecord
	output   string
	timedOut bool
	duration time.Duration
	memHit   bool
	procsHit bool
	started  time.Time
	traceCut bool     // the trace was longer than maxTrace
	enforced []string // the limits in force, and how
}

// maxTrace bounds the part of the strace log that is analysed; a fork
// bomb writes tens of MiB of failing clone calls.
const maxTrace = 8 << 20

func readTrace(p string) ([]byte, bool) {
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxTrace+1))
	if len(b) > maxTrace {
		b = b[:bytes.LastIndexByte(b[:maxTrace], '\n')+1]
		return b, true
	}
	return b, false
}

func (a *attempt) execute(ctx context.Context) (*outcome, error) {
	strace, _ := lookTool("strace")
	ip, _ := lookTool("ip")
	nft, _ := lookTool("nft")
	bf, err := binfmtEntries()
	if err != nil {
		return nil, err
	}
	cpuinfo := filepath.Join(a.runDir, "cpuinfo")
	ci := a.dev.CPUInfo
	if ci == "" {
		ci = defaultCPUInfo(a.dev.Arch)
	}
	if err := os.WriteFile(cpuinfo, []byte(ci), 0o444); err != nil {
		return nil, err
	}
	for _, d := range []string{"binfmt", "hproc"} {
		if err := os.MkdirAll(filepath.Join(a.runDir, d), 0o755); err != nil {
			return nil, err
		}
	}
	host := a.dev.Hostname
	if host == "" {
		host = "router"
	}
	cg := newCgroups(cgroupName(a.runDir), a.opts)
	defer cg.remove()
	cfg := helperConfig{
		RunDir: a.runDir, Root: a.lay.root, Volatile: a.lay.volatile, ReadOnly: a.lay.readOnly, Flash: a.lay.flash,
		CPUInfo: cpuinfo, Hostname: host,
		Ruleset: a.opts.Network.Ruleset(FakePorts{TCP: fakeTCPPort, UDP: fakeUDPPort, DNS: fakeDNSPort}),
		Binfmt:  bf, Exe: a.exe, Argv: a.argv, Cwd: a.cwd,
		Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TERM=vt100", "SHELL=/bin/sh", "USER=root"},
		CPU: a.opts.CPUSeconds, FSize: a.opts.MaxFileBytes, NProc: a.opts.MaxProcs, Data: cg.dataRlimit(a.opts),
		Strace: strace, IP: ip, Nft: nft,
	}
	cb, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(a.runDir, "config.json")
	if err := os.WriteFile(cfgPath, cb, 0o444); err != nil {
		return nil, err
	}
	// init and strace own the run dir; the sample's root owns its files
	if err := chownTree(a.runDir, hostIDBase); err != nil {
		return nil, fmt.Errorf("sandbox: chown run dir: %w", err)
	}
	for _, d := range append([]string{a.lay.root}, volSrcs(a.lay)...) {
		if err := chownTree(d, hostIDBase+sampleID); err != nil {
			return nil, fmt.Errorf("sandbox: chown root: %w", err)
		}
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	gateR, gateW, err := os.Pipe()
	if err != nil {
		logR.Close()
		logW.Close()
		return nil, err
	}
	out := &capped{max: 16 << 10}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{envStage + "=init", envConfig + "=" + cfgPath}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{logW, gateR}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		UidMappings:  []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostIDBase, Size: hostIDSize}},
		GidMappings:  []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostIDBase, Size: hostIDSize}},
		Credential:   &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
		Pdeathsig:    syscall.SIGKILL,
		Setpgid:      true,
		Unshareflags: 0,
	}
	o := &outcome{started: time.Now(), enforced: cg.enforced(a.opts)}
	if err := cmd.Start(); err != nil {
		logR.Close()
		logW.Close()
		gateR.Close()
		gateW.Close()
		return nil, fmt.Errorf("sandbox: start helper: %w", err)
	}
	logW.Close()
	gateR.Close()
	if err := cg.add(cmd.Process.Pid); err != nil {
		o.enforced = append(o.enforced, "cgroup: "+err.Error())
	}
	gateW.Write([]byte{1})
	gateW.Close()
	netDone := make(chan []fakeRecord, 1)
	go func() { netDone <- readNetlog(logR, 50000); logR.Close() }()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	timer := time.NewTimer(a.timeout)
	defer timer.Stop()
	select {
	case <-waitErr:
	case <-timer.C:
		o.timedOut = true
		a.stop(cmd, waitErr)
	case <-ctx.Done():
		a.stop(cmd, waitErr)
	}
	o.duration = time.Since(o.started)
	select {
	case o.netlog = <-netDone:
	case <-time.After(5 * time.Second):
	}
	o.memHit, o.procsHit = cg.hits()
	o.output = out.String()
	o.trace, o.traceCut = readTrace(filepath.Join(a.runDir, "trace"))
	if len(o.trace) == 0 {
		return o, fmt.Errorf("sandbox: helper produced no trace: %s", strings.TrimSpace(o.output))
	}
	return o, ctx.Err()
}

// stop asks init to end the run cleanly (it kills every process of the
// PID namespace and lets strace and the fake Internet finish their logs),
// then kills the namespace outright.
func (a *attempt) stop(cmd *exec.Cmd, waitErr chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-waitErr:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-waitErr
	}
}

// capped keeps the first max bytes written to it.
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func volSrcs(l *layout) []string {
	var out []string
	for _, v := range l.volatile {
		out = append(out, v.Src)
	}
	return out
}
