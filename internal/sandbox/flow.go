package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// sampleDir is where the sample is placed, as a bot's loader would.
const sampleDir = "/tmp"

func run(ctx context.Context, sample []byte, dev Device, opts Options) (*Report, error) {
	qemuArch, arch, err := archOf(sample)
	script := false
	if err != nil && bytes.HasPrefix(sample, []byte("#!")) {
		// droppers are shell scripts: the device's shell runs them
		script, arch, err = true, "script", nil
	}
	if err != nil {
		return nil, err
	}
	if dev.Arch == "" {
		dev.Arch = arch
	}
	sum := sha256Hex(sample)
	runDir, err := os.MkdirTemp("", runDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("sandbox: run dir: %w", err)
	}
	defer os.RemoveAll(runDir)
	lock, err := lockRunDir(runDir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: lock run dir: %w", err)
	}
	defer lock.Close()
	if err := os.Chmod(runDir, 0o755); err != nil {
		return nil, err
	}
	lay, err := newLayout(runDir, dev.Mounts, opts.DiskBytes, true)
	if err != nil {
		return nil, fmt.Errorf("sandbox: layout: %w", err)
	}
	defer lay.unmount()
	if dev.RootFS != nil {
		err = copyFS(lay.root, dev.RootFS)
	} else {
		err = writeDefaultRoot(lay.root)
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: root filesystem: %w", err)
	}
	if err := installShell(lay.root); err != nil {
		return nil, fmt.Errorf("sandbox: shell: %w", err)
	}
	if r, err := os.OpenRoot(lay.root); err == nil {
		for _, d := range []string{"proc", "dev", "tmp", "sys"} {
			r.MkdirAll(d, 0o755)
		}
		r.Close()
	}
	name := path.Base(path.Clean("/" + opts.SampleName))
	if name == "/" || name == "." || name == ".." {
		name = sum[:12]
	}
	guest, cwd := path.Join(sampleDir, name), "/"
	if len(opts.Argv) > 0 {
		guest, _ = opts.samplePath() // checked by Validate
		cwd = path.Clean("/" + opts.Cwd)
	}
	if err := lay.writeFile(guest, sample, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: place sample: %w", err)
	}
	emulator := "native"
	if qemuArch != "" {
		emulator = "qemu-" + qemuArch + "-static"
	}
	argv := []string{guest}
	if len(opts.Argv) > 0 {
		argv = append([]string(nil), opts.Argv...)
	}
	exe := guest
	if script {
		emulator, exe, argv = "busybox-sh", "/bin/sh", append([]string{"/bin/sh", guest}, argv[1:]...)
	}
	rep := &Report{Version: ReportVersion, SHA256: sum, Size: len(sample), Arch: arch, DeviceArch: dev.Arch,
		Emulator: emulator, Network: opts.Network.Name(), SamplePath: guest, Argv: argv, Cwd: cwd}
	opts.Logger.Debug("sandbox run", "sha256", sum, "arch", arch, "timeout", opts.Timeout)
	a := &attempt{runDir: runDir, lay: lay, exe: exe, argv: argv, cwd: cwd, timeout: opts.Timeout, dev: dev, opts: opts}
	o, err := a.execute(ctx)
	if o == nil {
		return nil, err
	}
	if err != nil && len(o.trace) == 0 {
		return nil, err
	}
	rep.Started, rep.Duration = o.started.UTC(), o.duration
	f := parseTrace(o.trace, a.cwd)
	fillReport(rep, f, o, lay, opts)
	files, blocking := persistenceFiles(rep.Files)
	written := map[string]string{}
	for _, op := range rep.Files {
		if op.Persistent && op.SHA256 != "" {
			written[op.Path] = op.SHA256
		}
	}
	var procs []Process
	var restarted, rebootRan bool
	var how string
	var rebootErr error
	if opts.Reboot && ctx.Err() == nil && len(rep.Processes) > 0 {
		procs, restarted, how, rebootErr = reboot(ctx, runDir, lay, dev, opts, sum, written)
		rebootRan = rebootErr == nil
		if rebootErr != nil {
			rep.Notes = append(rep.Notes, "simulated reboot failed: "+rebootErr.Error())
		}
	}
	rep.Persistence = verdict(rep, files, blocking, rebootRan, restarted, how, rebootErr)
	rep.Persistence.RebootProcs = procs
	rep.normalize()
	if err := ctx.Err(); err != nil {
		// stopped by the caller: what was seen is returned with the reason
		return rep, err
	}
	return rep, nil
}

func fillReport(rep *Report, f *traceFacts, o *outcome, lay *layout, opts Options) {
	rep.Processes = f.processList()
	if o.traceCut {
		rep.Notes = append(rep.Notes, fmt.Sprintf("syscall trace cut at %d MiB", maxTrace>>20))
	}
	if f.truncated {
		rep.Notes = append(rep.Notes, fmt.Sprintf("process tree cut at %d processes", maxProcesses))
	}
	switch {
	case f.rootExit != nil:
		rep.Exit = *f.rootExit
	case len(rep.Processes) == 0:
		rep.Notes = append(rep.Notes, "the sample did not start: "+escapeBytes([]byte(o.output), 1024))
	default:
		rep.Exit = Exit{Running: true, Signal: "SIGKILL"}
	}
	if rep.Exit.Signal == "SIGKILL" && o.timedOut && !rep.Exit.Finished {
		rep.Exit.Running = true
	}
	rep.Limits = Limits{Timeout: o.timedOut, CPU: f.cpuHit, Memory: o.memHit, Procs: o.procsHit || f.procsHit, FSize: f.fsizeHit,
		Enforced: append(o.enforced, lay.enforced...)}
	seen := map[string]int{}
	for _, op := range f.files {
		op.Persistent = lay.persistent(op.Path)
		if op.Op == "write" {
			k := op.Path + "\x00" + op.Failed
			if i, ok := seen[k]; ok && rep.Files[i].Op == "write" {
				continue
			}
			seen[k] = len(rep.Files)
		}
		rep.Files = append(rep.Files, op)
	}
	for i := range rep.Files {
		op := &rep.Files[i]
		p := op.Path
		if op.Op == "rename" {
			p = op.To
		}
		if op.Op != "write" && op.Op != "rename" || op.Failed != "" {
			continue
		}
		b, err := lay.readFile(p, MaxSampleBytes)
		if err != nil {
			op.Missing = true
			continue
		}
		op.Size, op.SHA256 = int64(len(b)), sha256Hex(b)
	}
	for _, op := range rep.Files {
		if op.Op != "delete" || op.Failed != "" {
			continue
		}
		if op.Path == rep.SamplePath {
			rep.SelfDeleted = true
		}
		if p := f.procs[f.owner(op.PID)]; p != nil && p.Exe == op.Path {
			rep.SelfDeleted = true
		}
	}
	rep.Kills, rep.Watchdog, rep.ProcessNames, rep.Counts = f.kills, f.watchdog, f.names, f.counts
	rep.RawSockets, rep.RawDenied, rep.Listens = f.rawSockets, f.rawDenied, f.listens
	if f.rawDenied > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d of %d raw socket(s) denied: the sample does not own its network namespace, so raw (SYN) scanning is not observed", f.rawDenied, f.rawSockets))
	}
	longLived := min(10*time.Second, max(opts.Timeout/2, time.Second))
	joinNetwork(rep, f, o.netlog, opts.Exploits, longLived)
	if out := strings.TrimSpace(o.output); out != "" {
		rep.Output = escapeBytes([]byte(out), 4096)
	}
}

// normalize gives every list a non-nil value, so the JSON has [] rather
// than null for "nothing seen".
func (r *Report) normalize() {
	nonNil(&r.Processes)
	nonNil(&r.Files)
	nonNil(&r.DNS)
	nonNil(&r.Connections)
	nonNil(&r.C2)
	nonNil(&r.Scans)
	nonNil(&r.Exploits)
	nonNil(&r.DownloadURLs)
	nonNil(&r.Kills)
	nonNil(&r.Watchdog)
	nonNil(&r.Persistence.Files)
	if r.FanOut == nil {
		r.FanOut = map[string]int{}
	}
	// Attacker-controlled strings keep their bytes visible: invalid UTF-8
	// becomes \xNN instead of JSON's U+FFFD.
	esc := event.EscapeInvalid
	for _, ps := range [][]Process{r.Processes, r.Persistence.RebootProcs} {
		for i := range ps {
			p := &ps[i]
			p.Exe = esc(p.Exe)
			for j := range p.Argv {
				p.Argv[j] = esc(p.Argv[j])
			}
			for j := range p.Execs {
				p.Execs[j].Exe = esc(p.Execs[j].Exe)
			}
		}
	}
	for i := range r.Files {
		r.Files[i].Path, r.Files[i].To = esc(r.Files[i].Path), esc(r.Files[i].To)
	}
	for i := range r.DNS {
		r.DNS[i].Name = esc(r.DNS[i].Name)
	}
	for i := range r.C2 {
		r.C2[i].Name = esc(r.C2[i].Name)
	}
	for i := range r.Connections {
		r.Connections[i].Name = esc(r.Connections[i].Name)
	}
	for i := range r.DownloadURLs {
		r.DownloadURLs[i].URL = esc(r.DownloadURLs[i].URL)
	}
	for i := range r.ProcessNames {
		r.ProcessNames[i] = esc(r.ProcessNames[i])
	}
	for i := range r.Kills {
		r.Kills[i].Target = esc(r.Kills[i].Target)
	}
	for i := range r.Watchdog {
		r.Watchdog[i].Path = esc(r.Watchdog[i].Path)
	}
	for i := range r.Persistence.Files {
		r.Persistence.Files[i] = esc(r.Persistence.Files[i])
	}
}

func nonNil[T any](s *[]T) {
	if *s == nil {
		*s = []T{}
	}
}
