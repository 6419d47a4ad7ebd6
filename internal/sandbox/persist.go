package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// persistencePaths are the places a device reads at boot or on a timer.
var persistencePaths = regexp.MustCompile(`^/(etc/(init\.d|rc\.d|rcS\.d|rc[0-9]\.d)/|etc/rc\.local$|etc/inittab$|etc/crontabs?(/|$)|` +
	`etc/cron\.[a-z]+/|var/spool/cron/|etc/profile$|etc/profile\.d/|root/\.profile$|etc/config/|etc/hotplug\.d/|` +
	`etc/rc\.common$|overlay/|jffs/|etc/storage/|usr/local/etc/rc\.d/)`)

// updateBlocking matches tools whose removal or disabling stops the owner
// from flashing clean firmware.
var updateBlocking = regexp.MustCompile(`(?i)(sysupgrade|fwupgrade|fw_upgrade|firmware|upgrade|/mtd$|/sbin/mtd|flash_erase|/tftp$)`)

// persistenceFiles are the changes on flash that make a device start
// something at boot or on a timer, or block a clean firmware update.
func persistenceFiles(ops []FileOp) (files []string, blocking []string) {
	seen := map[string]bool{}
	for _, op := range ops {
		for _, p := range []string{op.Path, op.To} {
			if p == "" || !op.Persistent || seen[p] || op.Failed != "" {
				continue
			}
			switch op.Op {
			case "write", "rename", "symlink", "link", "chmod":
				if persistencePaths.MatchString(p) && !op.Missing {
					seen[p] = true
					files = append(files, p)
				}
			}
			if (op.Op == "delete" || op.Op == "chmod" || op.Op == "rename") && updateBlocking.MatchString(p) {
				seen[p] = true
				blocking = append(blocking, op.Op+" "+p)
			}
		}
	}
	return files, blocking
}

// bootEntry is one thing the simulated boot runs.
type bootEntry struct {
	cmd        string
	script     bool // a boot script file: run as "sh FILE start"
	background bool // inittab once/respawn/askfirst: init does not wait
}

// bootEntries are the device's boot entries: the profile's list, else
// /etc/inittab (or rcS without one), plus rc.local when present. An
// inittab in the list is read as BusyBox init reads it, not run.
func bootEntries(dev Device, lay *layout) []bootEntry {
	list := dev.BootScripts
	if len(list) == 0 {
		list = []string{"/etc/inittab"}
		if _, err := lay.readFile("/etc/inittab", 1); err != nil {
			list = []string{"/etc/init.d/rcS"}
		}
		list = append(list, "/etc/rc.local")
	}
	var out []bootEntry
	seen := map[string]bool{}
	add := func(e bootEntry) {
		if !seen[e.cmd] && len(out) < 64 {
			seen[e.cmd] = true
			out = append(out, e)
		}
	}
	for _, p := range list {
		b, err := lay.readFile(p, 1<<20)
		if err != nil {
			continue
		}
		if path.Base(p) == "inittab" {
			for _, e := range parseInittab(b) {
				add(e)
			}
			continue
		}
		add(bootEntry{cmd: p, script: true})
	}
	return out
}

// parseInittab reads BusyBox inittab lines, id:runlevels:action:process,
// and returns what init starts at boot in its order: sysinit, then wait,
// then once, respawn and askfirst (in the background). Login shells and
// gettys wait for a console nobody uses; shutdown, restart and
// ctrlaltdel do not run at boot.
func parseInittab(b []byte) []bootEntry {
	order := map[string]int{"sysinit": 0, "wait": 1, "once": 2, "respawn": 2, "askfirst": 2}
	var phases [3][]bootEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, ":", 4)
		if len(parts) != 4 {
			continue
		}
		ph, ok := order[strings.TrimSpace(parts[2])]
		cmd := strings.TrimSpace(parts[3])
		if !ok || cmd == "" || strings.HasPrefix(cmd, "-") || strings.Contains(cmd, "getty") ||
			cmd == "/bin/sh" || cmd == "/bin/ash" || cmd == "/bin/login" {
			continue
		}
		phases[ph] = append(phases[ph], bootEntry{cmd: cmd, background: ph == 2})
	}
	return append(append(phases[0], phases[1]...), phases[2]...)
}

// cronCommands reads the crontabs on flash; the simulated reboot runs each
// command once, standing in for crond reaching its first minute.
func cronCommands(lay *layout) []string {
	var out []string
	add := func(file string, userField bool) {
		b, err := lay.readFile(file, 1<<20)
		if err != nil {
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() && len(out) < 32 {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") || strings.Contains(strings.SplitN(line, " ", 2)[0], "=") {
				continue
			}
			fields := strings.Fields(line)
			n := 5
			if strings.HasPrefix(fields[0], "@") {
				n = 1
			}
			if userField {
				n++
			}
			if len(fields) <= n {
				continue
			}
			out = append(out, strings.Join(fields[n:], " "))
		}
	}
	add("/etc/crontab", true)
	for _, dir := range []string{"/etc/crontabs", "/var/spool/cron/crontabs", "/var/spool/cron"} {
		ents, err := lay.readDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				add(path.Join(dir, e.Name()), false)
			}
		}
	}
	return out
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// rebootScript is what the simulated boot runs with the native shell.
func rebootScript(boot []bootEntry, cron []string) string {
	var b strings.Builder
	for _, e := range boot {
		switch {
		case e.script:
			fmt.Fprintf(&b, "[ -f %s ] && /bin/sh %s start\n", shQuote(e.cmd), shQuote(e.cmd))
		case e.background:
			fmt.Fprintf(&b, "( /bin/sh -c %s ) &\n", shQuote(e.cmd))
		default:
			fmt.Fprintf(&b, "/bin/sh -c %s\n", shQuote(e.cmd))
		}
	}
	for _, c := range cron {
		fmt.Fprintf(&b, "( /bin/sh -c %s ) &\n", shQuote(c))
	}
	b.WriteString("wait\n")
	return b.String()
}

// reboot simulates a power cycle: the volatile filesystems are discarded,
// the flash layer kept as the run left it, and the boot entries run.
// It reports the processes of the boot and whether one of them runs the
// sample (or a binary the sample wrote) again.
func reboot(ctx context.Context, runDir string, lay *layout, dev Device, opts Options, sampleSHA string, written map[string]string) (procs []Process, restarted bool, how string, err error) {
	dir := filepath.Join(runDir, "reboot")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, "", err
	}
	lay2, err := newLayout(dir, dev.Mounts, opts.DiskBytes, false)
	if err != nil {
		return nil, false, "", err
	}
	defer lay2.unmount()
	lay2.root = lay.root
	boot := bootEntries(dev, lay2)
	cron := cronCommands(lay2)
	if len(boot) == 0 && len(cron) == 0 {
		return nil, false, "", fmt.Errorf("device has no boot scripts")
	}
	a := &attempt{runDir: dir, lay: lay2, argv: []string{"/bin/sh", "-c", rebootScript(boot, cron)}, timeout: opts.BootWait, dev: dev, opts: opts}
	o, err := a.execute(ctx)
	if o == nil {
		return nil, false, "", err
	}
	f := parseTrace(o.trace, "/")
	procs = f.processList()
	for i := range procs {
		p := &procs[i]
		if p.Exe == "" {
			continue
		}
		if sum, ok := written[p.Exe]; ok {
			p.SHA256 = sum
		} else if b, err := lay2.readFile(p.Exe, MaxSampleBytes); err == nil {
			p.SHA256 = sha256Hex(b)
		}
		if !restarted && (p.SHA256 == sampleSHA || written[p.Exe] != "") {
			restarted = true
			how = p.Exe
		}
	}
	return procs, restarted, how, nil
}

// attempts are the refused writes to flash or to a boot file: persistence
// the device stopped, still reported.
func attempts(ops []FileOp) []string {
	var out []string
	for _, op := range ops {
		if op.Failed != "" && op.Op == "write" && (op.Persistent || persistencePaths.MatchString(op.Path)) && len(out) < 32 {
			out = append(out, op.Op+" "+op.Path+": "+op.Failed)
		}
	}
	return out
}

// verdict decides persistence from the files on flash and the reboot.
func verdict(rep *Report, files, blocking []string, rebootRan, restarted bool, how string, rebootErr error) Persistence {
	p := Persistence{Files: append(files, blocking...), RebootRun: rebootRan, Restarted: restarted, Attempts: attempts(rep.Files)}
	var flash []string
	for _, f := range rep.Files {
		if f.Persistent && (f.Op == "write" || f.Op == "rename" || f.Op == "symlink") && !f.Missing && f.Failed == "" {
			flash = append(flash, f.Path)
		}
	}
	switch {
	case restarted:
		p.Verdict = VerdictPersistent
		p.Reason = fmt.Sprintf("the sample started again after the simulated reboot (%s)", how)
		if len(files) > 0 {
			p.Reason += " via " + strings.Join(files, ", ")
		}
	case rep.Exit.Signal == "" && len(rep.Processes) == 0:
		p.Verdict = VerdictUnknown
		p.Reason = "the sample did not run"
	case len(files) > 0 && rebootRan:
		p.Verdict = VerdictUnknown
		p.Reason = "wrote " + strings.Join(files, ", ") + " on flash, but nothing it wrote ran after the simulated reboot"
	case len(files) > 0:
		p.Verdict = VerdictPersistent
		p.Reason = "wrote " + strings.Join(files, ", ") + " on flash (not proved: no simulated reboot)"
		if rebootErr != nil {
			p.Reason += ": " + rebootErr.Error()
		}
	case len(blocking) > 0:
		p.Verdict = VerdictPersistent
		p.Reason = "tampered with firmware update tools: " + strings.Join(blocking, ", ")
	case len(flash) > 0:
		p.Verdict = VerdictVolatile
		p.Reason = "left " + strings.Join(flash, ", ") + " on flash, but nothing starts it at boot"
	default:
		p.Verdict = VerdictVolatile
		p.Reason = "every change was on volatile filesystems (tmpfs); a reboot removes it"
	}
	if rebootRan && !restarted && p.Verdict == VerdictVolatile {
		p.Reason += "; the simulated reboot confirmed it"
	}
	p.RemovalSteps = removalSteps(p.Verdict, len(blocking) > 0)
	return p
}

func removalSteps(v string, blocking bool) []string {
	steps := []string{"Reboot the device (power off and on) to end the running malware."}
	if v != VerdictVolatile {
		steps[0] = "Reboot the device to end the running malware — on its own this does NOT remove it: it survives a reboot."
	}
	steps = append(steps,
		"Change the passwords of every account on the device; the attacker knows the current ones.",
		"Close Telnet (23/tcp, 2323/tcp) and any remote administration from the Internet.")
	if v != VerdictVolatile {
		steps = append(steps, "Factory reset the device to erase the changes on flash.",
			"Update the firmware to the vendor's latest version"+map[bool]string{true: " (the malware tampered with the update tools: flash it from the vendor's recovery mode)", false: ""}[blocking]+".")
	}
	return steps
}
