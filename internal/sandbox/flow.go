package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// sampleDir is where the sample is placed, as a bot's loader would.
const sampleDir = "/tmp"

func run(ctx context.Context, sample []byte, dev Device, opts Options) (*Report, error) {
	qemuArch, arch, err := archOf(sample)
	if err != nil {
		return nil, err
	}
	if dev.Arch == "" {
		dev.Arch = arch
	}
	sum := sha256Hex(sample)
	runDir, err := os.MkdirTemp("", "kansoku-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("sandbox: run dir: %w", err)
	}
	defer os.RemoveAll(runDir)
	if err := os.Chmod(runDir, 0o755); err != nil {
		return nil, err
	}
	lay, err := newLayout(runDir, dev.Mounts)
	if err != nil {
		return nil, fmt.Errorf("sandbox: layout: %w", err)
	}
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
	for _, d := range []string{"proc", "dev", "tmp", "sys"} {
		os.MkdirAll(filepath.Join(lay.root, d), 0o755)
	}
	name := path.Base(path.Clean("/" + opts.SampleName))
	if name == "/" || name == "." || name == ".." {
		name = sum[:12]
	}
	guest := path.Join(sampleDir, name)
	host := lay.hostPath(guest)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(host, sample, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox: place sample: %w", err)
	}
	emulator := "native"
	if qemuArch != "" {
		emulator = "qemu-" + qemuArch + "-static"
	}
	rep := &Report{Version: ReportVersion, SHA256: sum, Size: len(sample), Arch: arch, DeviceArch: dev.Arch,
		Emulator: emulator, Network: opts.Network.Name(), SamplePath: guest}
	opts.Logger.Debug("sandbox run", "sha256", sum, "arch", arch, "timeout", opts.Timeout)
	a := &attempt{runDir: runDir, lay: lay, argv: []string{guest}, timeout: opts.Timeout, dev: dev, opts: opts}
	o, err := a.execute(ctx)
	if o == nil {
		return nil, err
	}
	if err != nil && len(o.trace) == 0 {
		return nil, err
	}
	rep.Started, rep.Duration = o.started.UTC(), o.duration
	f := parseTrace(o.trace)
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
	if errors.Is(ctx.Err(), context.Canceled) {
		return rep, ctx.Err()
	}
	return rep, nil
}

func fillReport(rep *Report, f *traceFacts, o *outcome, lay *layout, opts Options) {
	rep.Processes = f.processList()
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
	rep.Limits = Limits{Timeout: o.timedOut, CPU: f.cpuHit, Memory: o.memHit, Procs: o.procsHit || f.procsHit, FSize: f.fsizeHit}
	seen := map[string]int{}
	for _, op := range f.files {
		op.Persistent = lay.persistent(op.Path)
		if op.Op == "write" {
			if i, ok := seen[op.Path]; ok && rep.Files[i].Op == "write" {
				continue
			}
			seen[op.Path] = len(rep.Files)
		}
		rep.Files = append(rep.Files, op)
	}
	for i := range rep.Files {
		op := &rep.Files[i]
		p := op.Path
		if op.Op == "rename" {
			p = op.To
		}
		if op.Op != "write" && op.Op != "rename" {
			continue
		}
		b, err := readCapped(lay.hostPath(p), MaxSampleBytes)
		if err != nil {
			op.Missing = true
			continue
		}
		op.Size, op.SHA256 = int64(len(b)), sha256Hex(b)
	}
	for _, op := range rep.Files {
		if op.Op != "delete" {
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
}

func nonNil[T any](s *[]T) {
	if *s == nil {
		*s = []T{}
	}
}
