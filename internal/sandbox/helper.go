package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/sandbox/fakenet"
)

// The helper runs in two stages inside the namespaces. "init" is PID 1 of
// the new PID namespace: it sets up the network (the policy's ruleset, the
// fake Internet), binfmt_misc for the guest architectures and the hostname,
// then runs strace, which runs "stage2". stage2 builds the sample's view of
// the filesystem in its own mount namespace, pivots into it, applies the
// rlimits and execs the sample.
const (
	envStage  = "KANSOKU_SANDBOX_STAGE"
	envConfig = "KANSOKU_SANDBOX_CONFIG"
)

// Ports of the fake Internet inside the namespace; the policy's ruleset
// redirects traffic to them.
const (
	fakeTCPPort = 65001
	fakeUDPPort = 65002
	fakeDNSPort = 53 // not redirected: see FakeInternet
)

// Sandbox-internal uid/gid range: uid 0 inside is this uid on the host, so
// a sample that escapes the namespaces is nobody there.
const (
	hostIDBase = 1500000000
	hostIDSize = 65536
	sampleID   = 1 // the sample's root, as an id of init's namespace
)

type bindMount struct {
	Src, Dst string // host path, guest path
}

type binfmtEntry struct {
	Name, Magic, Mask, Interp string
	Flags                     string // "" means PF: preserve argv[0], open the interpreter now
}

type helperConfig struct {
	RunDir   string        `json:"run_dir"`
	Root     string        `json:"root"`
	Volatile []bindMount   `json:"volatile"`
	ReadOnly []string      `json:"read_only"`
	Flash    []string      `json:"flash"`
	CPUInfo  string        `json:"cpuinfo"`
	Hostname string        `json:"hostname"`
	Ruleset  string        `json:"ruleset"`
	Binfmt   []binfmtEntry `json:"binfmt"`
	Exe      string        `json:"exe"` // "" is Argv[0]
	Argv     []string      `json:"argv"`
	Env      []string      `json:"env"`
	Cwd      string        `json:"cwd"`
	CPU      int64         `json:"cpu"`
	FSize    int64         `json:"fsize"`
	NProc    int64         `json:"nproc"`
	Data     int64         `json:"data"` // RLIMIT_DATA when no memory cgroup holds the run; 0: none
	Strace   string        `json:"strace"`
	IP       string        `json:"ip"`
	Nft      string        `json:"nft"`
}

// traced are the syscalls the report is built from.
const traced = "execve,execveat,clone,clone3,fork,vfork,socket,connect,sendto,sendmsg,bind,listen,chdir,fchdir," +
	"open,openat,creat,unlink,unlinkat,rename,renameat,renameat2,chmod,fchmodat,fchmod," +
	"kill,tkill,tgkill,pidfd_send_signal,ioctl,prctl,mkdir,mkdirat,symlink,symlinkat,link,linkat,reboot"

// MaybeRunHelper runs the sandbox's in-namespace stages when the process was
// started as one, and exits; otherwise it returns at once. Call it first in
// main and in TestMain.
func MaybeRunHelper() {
	switch os.Getenv(envStage) {
	case "init":
		os.Exit(helperInit())
	case "stage2":
		os.Exit(stage2())
	}
}

func readConfig() (*helperConfig, error) {
	b, err := os.ReadFile(os.Getenv(envConfig))
	if err != nil {
		return nil, err
	}
	var c helperConfig
	return &c, json.Unmarshal(b, &c)
}

func helperInit() int {
	c, err := readConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: config:", err)
		return 100
	}
	// Wait until the parent has put us into the cgroups.
	gate := os.NewFile(4, "gate")
	if _, err := gate.Read(make([]byte, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: gate:", err)
		return 101
	}
	gate.Close()
	out := os.NewFile(3, "netlog")
	var outMu sync.Mutex
	enc := json.NewEncoder(out)
	emit := func(r fakenet.Record) {
		outMu.Lock()
		enc.Encode(r)
		outMu.Unlock()
	}
	if err := setupNetwork(c); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: network:", err)
		return 102
	}
	tcp, err := net.ListenTCP("tcp4", &net.TCPAddr{Port: fakeTCPPort})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: listen:", err)
		return 103
	}
	dns, err := net.ListenUDP("udp4", &net.UDPAddr{Port: fakeDNSPort})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: listen dns:", err)
		return 103
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{Port: fakeUDPPort})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: listen udp:", err)
		return 103
	}
	netCtx, stopNet := context.WithCancel(context.Background())
	defer stopNet()
	netDone := make(chan struct{})
	go func() {
		defer close(netDone)
		fakenet.Serve(netCtx, fakenet.Config{TCP: tcp, DNS: dns, UDP: udp, Emit: emit})
	}()
	if c.Hostname != "" {
		syscall.Sethostname([]byte(c.Hostname))
	}
	if err := registerBinfmt(c); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: binfmt:", err)
		return 104
	}
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: open self:", err)
		return 105
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	cmd := exec.Command(c.Strace, "-f", "-q", "-ttt", "-yy", "-s", "256", "-o", filepath.Join(c.RunDir, "trace"),
		"-e", "trace="+traced, "--", stage2Path)
	cmd.Env = []string{envStage + "=stage2", envConfig + "=" + os.Getenv(envConfig)}
	cmd.ExtraFiles = []*os.File{exe}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox init: start strace:", err)
		return 106
	}
	exe.Close()
	stracePID := cmd.Process.Pid
	straceDone := make(chan struct{})
	// PID 1 reaps every orphan; strace's own status is all we keep.
	go func() {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err == syscall.ECHILD {
				return
			}
			if pid == stracePID {
				close(straceDone)
			}
		}
	}()
	select {
	case <-straceDone:
	case <-term:
	}
	killAllBut(c, stracePID)
	select {
	case <-straceDone:
	case <-time.After(3 * time.Second):
		syscall.Kill(stracePID, syscall.SIGKILL)
		<-straceDone
	}
	stopNet()
	<-netDone
	out.Close()
	return 0
}

func setupNetwork(c *helperConfig) error {
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"route", "add", "local", "default", "dev", "lo"},
	} {
		if b, err := exec.Command(c.IP, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, b)
		}
	}
	cmd := exec.Command(c.Nft, "-f", "-")
	cmd.Stdin = strings.NewReader(c.Ruleset)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft: %w: %s", err, b)
	}
	return nil
}

// registerBinfmt mounts the user namespace's own binfmt_misc (Linux ≥ 6.7)
// and registers qemu for each guest architecture; the F flag opens the
// interpreter now, so it works after stage2 pivots away from the host.
func registerBinfmt(c *helperConfig) error {
	dir := filepath.Join(c.RunDir, "binfmt")
	if err := syscall.Mount("binfmt_misc", dir, "binfmt_misc", 0, ""); err != nil {
		return fmt.Errorf("mount binfmt_misc: %w", err)
	}
	// Stays mounted: the registrations live as long as this instance.
	for _, e := range c.Binfmt {
		flags := e.Flags
		if flags == "" {
			flags = "PF"
		}
		line := fmt.Sprintf(":%s:M::%s:%s:%s:%s", e.Name, e.Magic, e.Mask, e.Interp, flags)
		if err := os.WriteFile(filepath.Join(dir, "register"), []byte(line), 0); err != nil {
			return fmt.Errorf("register %s: %w", e.Name, err)
		}
	}
	return nil
}

// killAllBut kills every process of the PID namespace except init and
// strace, so strace can finish its log. Everything is stopped first, until
// a pass finds nothing new, so a fork bomb cannot outrun the killing.
func killAllBut(c *helperConfig, keep int) {
	dir := filepath.Join(c.RunDir, "hproc")
	if err := syscall.Mount("proc", dir, "proc", 0, ""); err != nil {
		syscall.Kill(-1, syscall.SIGKILL)
		return
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	pids := func() []int {
		ents, _ := os.ReadDir(dir)
		var out []int
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == 1 || pid == keep {
				continue
			}
			if st, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat")); err == nil && isZombie(st) {
				continue
			}
			out = append(out, pid)
		}
		return out
	}
	stopped := map[int]bool{}
	for range 100 {
		fresh := 0
		for _, pid := range pids() {
			if !stopped[pid] {
				stopped[pid] = true
				syscall.Kill(pid, syscall.SIGSTOP)
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	for range 200 {
		left := pids()
		if len(left) == 0 {
			return
		}
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isZombie(stat []byte) bool {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// stage2 runs as strace's tracee in a fresh mount namespace.
func stage2() int {
	c, err := readConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox stage2: config:", err)
		return 110
	}
	if err := enterRoot(c); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox stage2:", err)
		return 111
	}
	for _, l := range []struct {
		res      int
		cur, max int64
	}{
		// SIGXCPU at the soft limit tells the report; SIGKILL follows.
		{syscall.RLIMIT_CPU, c.CPU, c.CPU + 2},
		{syscall.RLIMIT_FSIZE, c.FSize, c.FSize},
		{6 /* RLIMIT_NPROC */, c.NProc, c.NProc},
		{syscall.RLIMIT_NOFILE, 1024, 1024},
		{syscall.RLIMIT_CORE, 0, 0},
	} {
		if err := syscall.Setrlimit(l.res, &syscall.Rlimit{Cur: uint64(l.cur), Max: uint64(l.max)}); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox stage2: setrlimit:", err)
			return 112
		}
	}
	if c.Data > 0 {
		if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(c.Data), Max: uint64(c.Data)}); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox stage2: setrlimit data:", err)
			return 112
		}
	}
	for fd := 3; fd < 64; fd++ {
		syscall.CloseOnExec(fd)
	}
	// The sample runs as root of a nested user namespace whose ids are
	// another host uid than init's and strace's: it cannot signal or
	// ptrace them, and it owns none of the namespaces init set up (so it
	// can change neither the nftables rules nor the mounts over /proc).
	exe, dir := c.Exe, c.Cwd
	if exe == "" {
		exe = c.Argv[0]
	}
	if dir == "" {
		dir = "/"
	}
	cmd := &exec.Cmd{Path: exe, Args: c.Argv, Env: c.Env, Dir: dir,
		Stdin: nil, Stdout: os.Stdout, Stderr: os.Stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: sampleID, Size: hostIDSize - sampleID}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: sampleID, Size: hostIDSize - sampleID}},
		Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
		Setsid:      true,
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox stage2: exec:", err)
		return 113
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode() & 0xff
	}
	return 0
}

func enterRoot(c *helperConfig) error {
	root := c.Root
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make private: %w", err)
	}
	if err := syscall.Mount(root, root, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind root: %w", err)
	}
	for _, m := range c.Volatile {
		dst := filepath.Join(root, m.Dst)
		os.MkdirAll(dst, 0o755)
		if err := syscall.Mount(m.Src, dst, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", m.Dst, err)
		}
	}
	for _, p := range c.Flash {
		// a writable flash mount stays writable under a read-only root
		dst := filepath.Join(root, p)
		os.MkdirAll(dst, 0o755)
		if err := syscall.Mount(dst, dst, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind flash %s: %w", p, err)
		}
	}
	os.MkdirAll(filepath.Join(root, "proc"), 0o555)
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	for _, p := range c.ReadOnly {
		dst := filepath.Join(root, p)
		if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
			continue
		}
		// the root is a bind mount already; binding it again would hide
		// the volatile mounts below it
		if p != "/" {
			if err := syscall.Mount(dst, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
				return fmt.Errorf("bind ro %s: %w", p, err)
			}
		}
		// nosuid and nodev are locked on the run's tmpfs: a remount in a
		// user namespace must keep them
		if err := syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
			return fmt.Errorf("remount ro %s: %w", p, err)
		}
	}
	proc := filepath.Join(root, "proc")
	os.MkdirAll(proc, 0o555)
	if err := syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	if err := syscall.Mount(c.CPUInfo, filepath.Join(proc, "cpuinfo"), "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind cpuinfo: %w", err)
	}
	if err := setupDev(filepath.Join(root, "dev")); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root on the new one, and the
	// detach takes it away: no directory for it is left in the device's
	// root (a /.oldroot there is a tell).
	if err := syscall.Chdir(root); err != nil {
		return err
	}
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return syscall.Chdir("/")
}

// setupDev gives the sample a small /dev: the harmless host devices bound
// in, and watchdog nodes as plain files so opening them succeeds and is
// traced without touching the host's watchdog.
func setupDev(dev string) error {
	os.MkdirAll(dev, 0o755)
	if err := syscall.Mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID, "size=1m,mode=755"); err != nil {
		return fmt.Errorf("mount dev: %w", err)
	}
	for _, n := range []string{"null", "zero", "random", "urandom", "full"} {
		p := filepath.Join(dev, n)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := syscall.Mount("/dev/"+n, p, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", n, err)
		}
	}
	os.MkdirAll(filepath.Join(dev, "misc"), 0o755)
	os.MkdirAll(filepath.Join(dev, "shm"), 0o1777)
	os.MkdirAll(filepath.Join(dev, "pts"), 0o755)
	for _, n := range []string{"watchdog", "misc/watchdog", "watchdog0"} {
		os.WriteFile(filepath.Join(dev, n), nil, 0o600)
	}
	// the sample's root owns /dev, as root owns a device's /dev
	for _, n := range []string{"", "misc", "shm", "pts", "watchdog", "misc/watchdog", "watchdog0"} {
		os.Lchown(filepath.Join(dev, n), sampleID, sampleID)
	}
	os.Symlink("/proc/self/fd", filepath.Join(dev, "fd"))
	return nil
}

// readNetlog decodes the fake Internet's records.
func readNetlog(r *os.File, max int) []fakeRecord {
	var out []fakeRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		var rec fakeRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil && len(out) < max {
			out = append(out, rec)
		}
	}
	return out
}

type fakeRecord = fakenet.Record
