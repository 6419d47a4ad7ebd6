// Package worker turns captured samples into analysis reports: a collector
// hook queues a job for every new sample on the bus's work queue, and any
// number of workers (inside `serve` or `kansoku worker` processes on other
// machines) take jobs, run static analysis and the sandbox, and emit the
// report as an analysis.report event that the collector stores. A worker
// that dies mid-job leaves the job to be redelivered, a bounded number of
// times.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	pathpkg "path"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/kansoku/kansoku/internal/analysis"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/nats-io/nats.go/jetstream"
)

// Config is the `analysis:` section.
type Config struct {
	// Workers is how many jobs one process runs at once (0 = no worker in serve).
	Workers int `yaml:"workers"`
	// Dynamic enables the sandbox run; static analysis always runs.
	Dynamic bool `yaml:"dynamic"`
	// Timeout is the sandbox's hard run time.
	Timeout time.Duration `yaml:"timeout"`
	// Reboot also runs the simulated reboot for the persistence verdict.
	Reboot bool `yaml:"reboot"`
	// MaxAttempts bounds redelivery of a job whose worker died.
	MaxAttempts int      `yaml:"max_attempts"`
	YaraPath    string   `yaml:"yara_path"`
	Rules       []string `yaml:"rules"`
	// ProfilesDir adds device profiles the sandbox can pretend to be.
	ProfilesDir string `yaml:"profiles_dir"`
	// Sandbox holds the sandbox's resource limits; its run time and the
	// reboot switch are Timeout and Reboot above.
	Sandbox SandboxConfig `yaml:"sandbox"`
}

// SandboxConfig is `analysis.sandbox`: the limits of one sandbox run.
type SandboxConfig struct {
	CPUSeconds   int64         `yaml:"cpu_seconds"`    // RLIMIT_CPU of each process
	MemoryBytes  int64         `yaml:"memory_bytes"`   // memory cgroup limit of the run
	MaxProcs     int64         `yaml:"max_procs"`      // processes and threads
	MaxFileBytes int64         `yaml:"max_file_bytes"` // RLIMIT_FSIZE: largest file the sample may write
	DiskBytes    int64         `yaml:"disk_bytes"`     // size of the run's root tmpfs (the device's flash)
	BootWait     time.Duration `yaml:"boot_wait"`      // how long the simulated reboot runs; 0: half of timeout
}

// DefaultConfig runs two workers with the sandbox on, at the sandbox's own
// default limits.
func DefaultConfig() Config {
	return Config{Workers: 2, Dynamic: true, Timeout: sandbox.DefaultTimeout, Reboot: true, MaxAttempts: 3,
		Sandbox: SandboxConfig{CPUSeconds: sandbox.DefaultCPUSeconds, MemoryBytes: sandbox.DefaultMemoryBytes,
			MaxProcs: sandbox.DefaultMaxProcs, MaxFileBytes: sandbox.DefaultMaxFileBytes, DiskBytes: sandbox.DefaultDiskBytes}}
}

// SandboxOptions are the options of one sandbox run under this config.
func (c Config) SandboxOptions(logger *slog.Logger) sandbox.Options {
	return sandbox.Options{Timeout: c.Timeout, Reboot: c.Reboot, CPUSeconds: c.Sandbox.CPUSeconds, MemoryBytes: c.Sandbox.MemoryBytes,
		MaxProcs: c.Sandbox.MaxProcs, MaxFileBytes: c.Sandbox.MaxFileBytes, DiskBytes: c.Sandbox.DiskBytes, BootWait: c.Sandbox.BootWait, Logger: logger}
}

// Example is the commented YAML of the section for `kansoku config example`.
const Example = `  # Analysis jobs one process runs in parallel (serve and 'kansoku worker'); 0 disables workers in serve.
  workers: 2
  # Run each sample in the sandbox (qemu-user in namespaces, fake Internet); static analysis always runs.
  dynamic: true
  # Hard limit of one sandbox run.
  timeout: 1m0s
  # Also simulate a reboot to prove whether the sample persists.
  reboot: true
  # How often a job is retried when its worker dies.
  max_attempts: 3
  # The yara binary (Debian's yara 4.2) and extra rule directories.
  yara_path: ""
  rules: []
  # Extra device profiles (directories with profile.yaml) for the sandbox.
  profiles_dir: ""
  # Limits of one sandbox run.
  sandbox:
    # CPU seconds each process of the sample may use (RLIMIT_CPU).
    cpu_seconds: 60
    # Memory of the whole run (cgroup), at least 16 MiB for qemu.
    memory_bytes: 536870912
    # Processes and threads of the run (at least 8).
    max_procs: 256
    # Largest file the sample may write (RLIMIT_FSIZE).
    max_file_bytes: 16777216
    # Size of the run's root filesystem (a tmpfs: the device's flash); each RAM mount of the
    # profile gets its declared size= (else a quarter of this). A sample cannot write past them.
    disk_bytes: 268435456
    # How long the simulated reboot (boot scripts, cron) runs; 0s: half of timeout, at least 3s.
    boot_wait: 0s
`

// Validate checks the section; errors are *config.KeyError naming the key.
func (c Config) Validate() error {
	bad := func(key, msg string, args ...any) error {
		return &config.KeyError{Key: "analysis." + key, Msg: fmt.Sprintf(msg, args...)}
	}
	s := c.Sandbox
	switch {
	case c.Workers < 0 || c.Workers > 256:
		return bad("workers", "must be 0..256, not %d", c.Workers)
	case c.Timeout < time.Second || c.Timeout > time.Hour:
		return bad("timeout", "must be between 1s and 1h, not %s", c.Timeout)
	case c.MaxAttempts < 1 || c.MaxAttempts > 20:
		return bad("max_attempts", "must be 1..20, not %d", c.MaxAttempts)
	case s.CPUSeconds < 1 || s.CPUSeconds > 86400:
		return bad("sandbox.cpu_seconds", "must be 1..86400, not %d", s.CPUSeconds)
	case s.MemoryBytes < 16<<20 || s.MemoryBytes > 64<<30:
		return bad("sandbox.memory_bytes", "must be 16 MiB..64 GiB (16777216..68719476736), not %d", s.MemoryBytes)
	case s.MaxProcs < 8 || s.MaxProcs > 65536:
		return bad("sandbox.max_procs", "must be 8..65536, not %d", s.MaxProcs)
	case s.MaxFileBytes < 4<<10 || s.MaxFileBytes > 4<<30:
		return bad("sandbox.max_file_bytes", "must be 4 KiB..4 GiB (4096..4294967296), not %d", s.MaxFileBytes)
	case s.DiskBytes < 8<<20 || s.DiskBytes > 16<<30:
		return bad("sandbox.disk_bytes", "must be 8 MiB..16 GiB (8388608..17179869184), not %d", s.DiskBytes)
	case s.BootWait < 0 || s.BootWait > c.Timeout:
		return bad("sandbox.boot_wait", "must be 0s..timeout (%s), not %s", c.Timeout, s.BootWait)
	}
	// The sandbox's own check, so the two never disagree.
	if err := c.SandboxOptions(nil).Validate(); err != nil {
		return &config.KeyError{Key: "analysis.sandbox", Msg: err.Error()}
	}
	return nil
}

// Job is one queued analysis.
type Job struct {
	SHA256  string `json:"sha256"`
	Profile string `json:"profile,omitempty"` // the capturing honeypot's device profile
	Session string `json:"session,omitempty"`
	Sensor  string `json:"sensor,omitempty"`
	// Path is where the sample lay on the honeypot ("/var/dvrHelper"):
	// the sandbox runs it from there, as bots run their binaries.
	Path string `json:"path,omitempty"`
}

// Exec is how the sandbox starts a sample.
type Exec struct {
	Argv []string
	Cwd  string
}

// ExecFor starts a sample as bots run what they dropped: from the
// directory it lay in on the honeypot, by "./name" ("cd /var/;
// ./dvrHelper"), so name-checking bots take their real path. Without a
// path it is the sandbox's default (/tmp/<sha256 prefix>).
func ExecFor(p string) Exec {
	if p == "" || !strings.HasPrefix(p, "/") {
		return Exec{}
	}
	p = pathpkg.Clean(p)
	dir, name := pathpkg.Split(p)
	if name == "" || name == "." || name == ".." || len(p) > 1024 {
		return Exec{}
	}
	switch dir = pathpkg.Clean(dir); {
	case dir == "/proc" || dir == "/dev" || dir == "/sys" || strings.HasPrefix(dir, "/proc/") || strings.HasPrefix(dir, "/dev/") || strings.HasPrefix(dir, "/sys/"):
		return Exec{}
	}
	return Exec{Argv: []string{"./" + name}, Cwd: dir}
}

const subject = "analysis"

// EnqueueHook returns a collector hook that queues every newly captured
// sample that has no finished report yet.
func EnqueueHook(b *bus.Bus, st store.ReportStore) func(context.Context, []*event.Event) error {
	return func(ctx context.Context, evs []*event.Event) error {
		var errs []error
		for _, e := range evs {
			if e.Kind != "sample.captured" {
				continue
			}
			sha := e.Str("sha256")
			if len(sha) != 64 {
				continue
			}
			if r, err := st.Report(ctx, sha); err == nil && r.Status != "queued" {
				continue
			}
			j, _ := json.Marshal(Job{SHA256: sha, Profile: e.Str("profile"), Session: e.Session, Sensor: e.Sensor, Path: e.Text("path")})
			if err := b.PublishJob(ctx, subject, sha, j); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// Worker takes jobs from the queue.
type Worker struct {
	Bus      *bus.Bus
	Emitter  sensor.Emitter // analysis.report events go here (the spool)
	Config   Config
	Name     string // the worker's sensor name on its events
	Logger   *slog.Logger
	Profiles []*profile.Profile
	// AckWait overrides jobAckWait (tests).
	AckWait time.Duration
}

// jobAckWait is how long a job may go without word from its worker before
// another worker gets it. A live worker says it is still at work every
// jobAckWait/3, so a long sandbox run is never taken from it, and a dead
// worker's job is retried after jobAckWait, not after the analysis timeout.
const jobAckWait = time.Minute

// Run takes jobs, Config.Workers at a time, until ctx is done; jobs in hand
// are finished (their runs are bounded by the sandbox timeout). It waits
// for jobs with long polls, so an idle worker costs one request a poll.
func (w *Worker) Run(ctx context.Context) error {
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	n := max(w.Config.Workers, 1)
	if w.Config.Dynamic && sandbox.Available() == nil {
		// runs a killed worker left: run dirs with their tmpfs, cgroups
		if k, err := sandbox.CleanLeftovers(); err != nil || k > 0 {
			w.Logger.Warn("sandbox leftovers", "removed", k, "err", err)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	defer wg.Wait()
	go w.watchQueue(ctx)
	for ctx.Err() == nil {
		cons := w.consumer(ctx)
		if cons == nil {
			return nil
		}
		for ctx.Err() == nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			batch, err := cons.Fetch(1, jetstream.FetchContext(fctx), jetstream.FetchHeartbeat(5*time.Second))
			if err != nil {
				cancel()
				<-sem
				if gone(err) {
					break
				}
				w.pause(ctx)
				continue
			}
			got := false
			for m := range batch.Messages() {
				got = true
				wg.Add(1)
				go func(m jetstream.Msg) {
					defer wg.Done()
					defer func() { <-sem }()
					w.handle(context.WithoutCancel(ctx), m)
				}(m)
			}
			cancel()
			if !got {
				<-sem
				if err := batch.Error(); err != nil && gone(err) {
					break
				}
			}
		}
		if ctx.Err() == nil {
			w.Logger.Warn("analysis consumer vanished; recreating it")
		}
	}
	return nil
}

func (w *Worker) ackWait() time.Duration {
	if w.AckWait > 0 {
		return w.AckWait
	}
	return jobAckWait
}

// gone tells a consumer that no longer exists (deleted, or lost with the
// server that held it) from a poll that merely timed out.
func gone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted)
}

func (w *Worker) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

// consumer creates or finds the job consumer, retrying until ctx is done.
// Deliveries are not capped: a job whose workers died on every attempt is
// marked failed by the worker that gets it once more (see handle), rather
// than dropped by the server without a word.
func (w *Worker) consumer(ctx context.Context) jetstream.Consumer {
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := w.Bus.JS.CreateOrUpdateConsumer(cctx, bus.JobsStream, jetstream.ConsumerConfig{
			Durable: "analysis", FilterSubject: "jobs." + subject, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: w.ackWait(), MaxDeliver: -1, MaxAckPending: 1024,
		})
		cancel()
		if err == nil {
			return cons
		}
		w.Logger.Warn("cannot create the analysis consumer; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
}

// watchQueue publishes the queue depth while the worker runs.
func (w *Worker) watchQueue(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := w.Bus.JS.Consumer(ictx, bus.JobsStream, "analysis")
		if err == nil {
			if info, err := c.Info(ictx); err == nil {
				mQueue.Set(float64(info.NumPending + uint64(info.NumAckPending)))
			}
		}
		cancel()
	}
}

func (w *Worker) handle(ctx context.Context, m jetstream.Msg) {
	var j Job
	if err := json.Unmarshal(m.Data(), &j); err != nil || len(j.SHA256) != 64 {
		w.Logger.Warn("dropping malformed job", "err", err)
		_ = m.Term()
		return
	}
	tries := uint64(1)
	if md, err := m.Metadata(); err == nil {
		tries = md.NumDelivered
	}
	if tries > 1 {
		mRetries.Inc()
	}
	if attempts := uint64(max(w.Config.MaxAttempts, 1)); tries > attempts {
		w.giveUp(ctx, m, j, attempts)
		return
	}
	// Keep the job ours while the sandbox runs.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(w.ackWait() / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	defer close(stop)
	data, err := w.Bus.Get(ctx, bus.SamplesBucket, j.SHA256)
	if err != nil {
		w.Logger.Warn("sample not available yet", "sha256", j.SHA256, "err", err)
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	e := w.AnalyzeExec(ctx, data, j.Profile, ExecFor(j.Path))
	e.Sensor = w.Name
	e.Session = j.Session
	if err := w.Emitter.Emit(ctx, e); err != nil {
		w.Logger.Error("emit report", "sha256", j.SHA256, "err", err)
		_ = m.Nak()
		return
	}
	_ = m.Ack()
}

// giveUp marks a job failed after every attempt ended without a report
// (the worker died or was killed each time): the report says why, the
// sample stops being "queued", and the job leaves the queue.
func (w *Worker) giveUp(ctx context.Context, m jetstream.Msg, j Job, attempts uint64) {
	reason := fmt.Sprintf("no worker finished the analysis in %d attempts (the worker died or was stopped during the run, or could not deliver its report)", attempts)
	w.Logger.Error("analysis failed for good", "sha256", j.SHA256, "attempts", attempts)
	e := event.New("sandbox", "analysis.report")
	e.Sensor, e.Session = w.Name, j.Session
	e.Set("sha256", j.SHA256).Set("status", "failed").Set("error", reason).Set("attempts", attempts)
	if err := w.Emitter.Emit(ctx, e); err != nil {
		w.Logger.Error("emit failed report", "sha256", j.SHA256, "err", err)
		_ = m.NakWithDelay(30 * time.Second)
		return
	}
	mFailed.Inc()
	_ = m.Term()
}

// Analyze runs the static and (if enabled and possible) dynamic analysis
// and returns the analysis.report event.
func (w *Worker) Analyze(ctx context.Context, data []byte, profileName string) *event.Event {
	return w.AnalyzeExec(ctx, data, profileName, Exec{})
}

// AnalyzeExec is Analyze with the sample started as x says.
func (w *Worker) AnalyzeExec(ctx context.Context, data []byte, profileName string, x Exec) *event.Event {
	rep, derr := AnalyzeExec(ctx, data, w.Config, w.device(profileName), x, w.Logger)
	e := event.New("sandbox", "analysis.report")
	e.Set("sha256", rep.SHA256)
	if derr != nil {
		e.Set("status", "failed").Set("error", derr.Error())
	} else {
		e.Set("status", "done")
	}
	if rep.Static != nil {
		e.Set("file_type", rep.Static.FileType)
		if rep.Static.ELF != nil {
			e.Set("arch", rep.Static.ELF.Arch)
		}
	}
	e.Set("family", rep.Verdict.Family)
	c2, urls := indicators(rep)
	e.Set("c2", c2).Set("urls", urls)
	var obj map[string]any
	b, _ := json.Marshal(rep)
	_ = json.Unmarshal(b, &obj)
	e.Set("report", obj)
	return e
}

// device binds Device to a profile name.
func (w *Worker) device(name string) func(arch string) sandbox.Device {
	return func(arch string) sandbox.Device { return w.Device(name, arch) }
}

// Device picks the sandbox device: the capturing profile, else one of the
// sample's architecture, else the sandbox's default root filesystem.
func (w *Worker) Device(name, arch string) sandbox.Device {
	{
		var p *profile.Profile
		if name != "" {
			p = profile.ByName(w.Profiles, name)
		}
		if p == nil || (arch != "" && !sameFamily(p.Arch, arch)) {
			for _, c := range w.Profiles {
				if sameFamily(c.Arch, arch) {
					p = c
					break
				}
			}
		}
		if p == nil {
			return sandbox.Device{Arch: arch}
		}
		return DeviceOf(p, arch)
	}
}

func sameFamily(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		if strings.HasPrefix(s, "arm") && s != "arm64" {
			return "arm"
		}
		return s
	}
	return norm(a) == norm(b)
}

// DeviceOf turns a honeypot profile into the sandbox's device, so a sample
// runs on the same device it was captured on.
func DeviceOf(p *profile.Profile, arch string) sandbox.Device {
	m := fstest.MapFS{}
	for path, f := range p.Files {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			continue
		}
		mf := &fstest.MapFile{Data: f.Data, Mode: f.Mode}
		if f.Mode&fs.ModeSymlink != 0 {
			mf.Data = []byte(f.Target)
		}
		m[name] = mf
	}
	// On the device, boot scripts create the tmpfs directories that links
	// such as /tmp -> /var/tmp point to. The sandbox does not boot first and
	// gives the sample a fresh tmpfs anyway, so such links become plain
	// directories, and links to files that exist only at run time go.
	for name, mf := range m {
		if mf.Mode&fs.ModeSymlink == 0 {
			continue
		}
		if runtimeDirs[name] {
			m[name] = &fstest.MapFile{Mode: fs.ModeDir | 0o1777}
			continue
		}
		target := strings.TrimPrefix(string(mf.Data), "/")
		if !strings.HasPrefix(string(mf.Data), "/") {
			target = strings.TrimPrefix(pathpkg.Join(pathpkg.Dir("/"+name), string(mf.Data)), "/")
		}
		if _, err := fs.Stat(m, target); err != nil {
			delete(m, name)
		}
	}
	if _, ok := m["tmp"]; !ok {
		m["tmp"] = &fstest.MapFile{Mode: fs.ModeDir | 0o1777}
	}
	if arch == "" {
		arch = p.Arch
	}
	return sandbox.Device{Arch: arch, RootFS: m, CPUInfo: p.CPUInfo, Mounts: p.Mounts, BootScripts: p.BootScripts, Hostname: p.Name}
}

// runtimeDirs are directories devices link into tmpfs at boot.
var runtimeDirs = map[string]bool{"tmp": true, "var": true, "root": true, "home": true, "mnt": true, "etc/config": true, "var/run": true, "var/tmp": true}

// Analyze is the analysis `kansoku analyze` and the workers share: static
// analysis, then the sandbox for ELF samples when enabled and available.
// Its indicators are selected from both (Select).
func Analyze(ctx context.Context, data []byte, cfg Config, device func(arch string) sandbox.Device, logger *slog.Logger) (*analysis.Report, error) {
	return AnalyzeExec(ctx, data, cfg, device, Exec{}, logger)
}

// AnalyzeExec is Analyze with the sample started as x says.
func AnalyzeExec(ctx context.Context, data []byte, cfg Config, device func(arch string) sandbox.Device, x Exec, logger *slog.Logger) (*analysis.Report, error) {
	rep, err := analyze(ctx, data, cfg, device, x, logger)
	Select(rep)
	return rep, err
}

func analyze(ctx context.Context, data []byte, cfg Config, device func(arch string) sandbox.Device, x Exec, logger *slog.Logger) (*analysis.Report, error) {
	rep, err := analysis.Analyze(ctx, data, analysis.Options{YaraPath: cfg.YaraPath, Rules: cfg.Rules, Logger: logger})
	if rep == nil {
		rep = &analysis.Report{Version: analysis.ReportVersion, SHA256: bus.Hashes(data).SHA256}
	}
	if err != nil {
		return rep, fmt.Errorf("static analysis: %w", err)
	}
	if !cfg.Dynamic || rep.Static == nil || rep.Static.ELF == nil {
		return rep, nil
	}
	if err := sandbox.Available(); err != nil {
		rep.Dynamic, _ = json.Marshal(map[string]string{"error": err.Error()})
		return rep, nil
	}
	dev := sandbox.Device{Arch: rep.Static.ELF.Arch}
	if device != nil {
		dev = device(rep.Static.ELF.Arch)
	}
	opts := cfg.SandboxOptions(logger)
	opts.Argv, opts.Cwd = x.Argv, x.Cwd
	dyn, err := sandbox.Run(ctx, data, dev, opts)
	if err != nil {
		rep.Dynamic, _ = json.Marshal(map[string]string{"error": err.Error()})
		return rep, fmt.Errorf("sandbox: %w", err)
	}
	rep.Dynamic, _ = json.Marshal(dyn)
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// Select sets the report's indicators (intel.Select): the servers its
// decoded configuration names, set against what the sandbox run
// contacted; fetched and exploit URLs; decoys and well-known services
// marked. Strings alone never make an indicator.
func Select(rep *analysis.Report) {
	var ev intel.Evidence
	if st := rep.Static; st != nil && st.MiraiTable != nil {
		ev.HasConfig = true
		for _, s := range st.MiraiTable.Servers {
			ev.Config = append(ev.Config, intel.ConfigServer{Host: s.Host, Port: s.Port, Role: s.Role})
		}
	}
	var dyn sandbox.Report
	if len(rep.Dynamic) > 0 && json.Unmarshal(rep.Dynamic, &dyn) == nil {
		cand := map[string][]string{}
		for _, c := range dyn.C2 {
			cand[c.Dst] = c.Reasons
		}
		for _, c := range dyn.Connections {
			ap, err := netip.ParseAddrPort(c.Dst)
			if err != nil || c.Proto != "tcp" {
				continue
			}
			first, err := strconv.Unquote(`"` + c.First + `"`)
			if err != nil {
				first = c.First
			}
			reasons, ok := cand[c.Dst]
			ev.Contacts = append(ev.Contacts, intel.Contact{Dst: ap, Name: c.Name, Count: c.Count, Candidate: ok, First: []byte(first), Reasons: reasons})
		}
		for _, d := range dyn.DownloadURLs {
			switch d.Source {
			case "http-request":
				ev.Fetched = append(ev.Fetched, d.URL)
			case "exploit-payload":
				ev.ExploitURLs = append(ev.ExploitURLs, d.URL)
			}
		}
	}
	sel := intel.Select(ev)
	rep.Indicators = &sel
}

// indicators lists the report's C2s and URLs for the store's tables, each
// with how it was observed, its confidence and whether it is corroborated
// for the public feeds (the store queues the rest for review).
func indicators(rep *analysis.Report) (c2 []any, urls []any) {
	c2, urls = []any{}, []any{}
	if rep.Indicators == nil {
		return c2, urls
	}
	for _, in := range rep.Indicators.Indicators {
		m := map[string]any{"observed": in.Observed, "confidence": in.Confidence, "publish": in.Publish}
		switch in.Kind {
		case "c2":
			m["host"], m["port"], m["source"] = in.Value, in.Port, "sandbox"
			if in.Observed == intel.ObservedConfig {
				m["source"] = "static"
			}
			c2 = append(c2, m)
		case "url":
			m["url"] = in.Value
			urls = append(urls, m)
		}
	}
	return c2, urls
}
