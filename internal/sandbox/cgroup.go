package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroups hold one attempt's memory and task limits: cgroup v2 where the
// unified hierarchy has the memory and pids controllers (a v2 host, or a
// hybrid one's /sys/fs/cgroup/unified), else the v1 memory and pids
// hierarchies; a limit no cgroup can hold falls back to an rlimit
// (RLIMIT_DATA per process for memory; RLIMIT_NPROC always holds). The
// report lists what was in force (enforced), so a run is never silently
// unlimited.
type cgroups struct {
	v2        string // the attempt's v2 group
	mem, pids string // v1 groups
}

// cgroupRoot is where the hierarchies are mounted; tests point it
// elsewhere.
var cgroupRoot = "/sys/fs/cgroup"

const cgroup2Magic = 0x63677270

// cgroupParent groups every attempt's cgroup, so leftovers are found.
const cgroupParent = "kansoku-sandbox"

// unified returns the v2 hierarchy's mount point if it offers memory and
// pids, or "".
func unified() string {
	for _, d := range []string{cgroupRoot, filepath.Join(cgroupRoot, "unified")} {
		var st syscall.Statfs_t
		if syscall.Statfs(d, &st) != nil || st.Type != cgroup2Magic {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "cgroup.controllers"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if contains(f, "memory") && contains(f, "pids") {
			return d
		}
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func newCgroups(name string, o Options) *cgroups {
	c := &cgroups{}
	if u := unified(); u != "" {
		parent := filepath.Join(u, cgroupParent)
		os.Mkdir(parent, 0o755)
		// Controllers reach a group only through its parents'
		// subtree_control; the parent holds no process, as v2 asks.
		os.WriteFile(filepath.Join(u, "cgroup.subtree_control"), []byte("+memory +pids"), 0)
		os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory +pids"), 0)
		d := filepath.Join(parent, name)
		if os.Mkdir(d, 0o755) == nil {
			ok := os.WriteFile(filepath.Join(d, "memory.max"), []byte(strconv.FormatInt(o.MemoryBytes, 10)), 0) == nil &&
				os.WriteFile(filepath.Join(d, "pids.max"), []byte(strconv.FormatInt(o.MaxProcs+helperTasks, 10)), 0) == nil
			os.WriteFile(filepath.Join(d, "memory.swap.max"), []byte("0"), 0)
			if ok {
				c.v2 = d
				return c
			}
			os.Remove(d)
		}
	}
	if d := filepath.Join(cgroupRoot, "memory", name); os.Mkdir(d, 0o755) == nil {
		if os.WriteFile(filepath.Join(d, "memory.limit_in_bytes"), []byte(strconv.FormatInt(o.MemoryBytes, 10)), 0) == nil {
			os.WriteFile(filepath.Join(d, "memory.memsw.limit_in_bytes"), []byte(strconv.FormatInt(o.MemoryBytes, 10)), 0)
			c.mem = d
		} else {
			os.Remove(d)
		}
	}
	if d := filepath.Join(cgroupRoot, "pids", name); os.Mkdir(d, 0o755) == nil {
		// init and strace are in the group too
		if os.WriteFile(filepath.Join(d, "pids.max"), []byte(strconv.FormatInt(o.MaxProcs+helperTasks, 10)), 0) == nil {
			c.pids = d
		} else {
			os.Remove(d)
		}
	}
	return c
}

// cgroupName is unique per attempt: the run dir's name, plus "-reboot"
// for the simulated reboot inside it.
func cgroupName(runDir string) string {
	rel, err := filepath.Rel(os.TempDir(), runDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(runDir)
	}
	return strings.ReplaceAll(rel, string(filepath.Separator), "-")
}

// helperTasks is the headroom for init's and strace's own threads.
const helperTasks = 24

// dataRlimit is the per-process memory rlimit when no cgroup holds the
// run's memory.
func (c *cgroups) dataRlimit(o Options) int64 {
	if c.v2 != "" || c.mem != "" {
		return 0
	}
	return o.MemoryBytes
}

// enforced says which limits hold the attempt and how.
func (c *cgroups) enforced(o Options) []string {
	out := []string{
		fmt.Sprintf("cpu: RLIMIT_CPU %ds per process", o.CPUSeconds),
		fmt.Sprintf("file size: RLIMIT_FSIZE %d bytes", o.MaxFileBytes),
		fmt.Sprintf("processes: RLIMIT_NPROC %d", o.MaxProcs),
	}
	switch {
	case c.v2 != "":
		out = append(out, fmt.Sprintf("memory: cgroup v2 memory.max %d bytes", o.MemoryBytes),
			fmt.Sprintf("tasks: cgroup v2 pids.max %d", o.MaxProcs+helperTasks))
	default:
		if c.mem != "" {
			out = append(out, fmt.Sprintf("memory: cgroup v1 memory.limit_in_bytes %d bytes", o.MemoryBytes))
		} else {
			out = append(out, fmt.Sprintf("memory: RLIMIT_DATA %d bytes per process (no memory cgroup)", o.MemoryBytes))
		}
		if c.pids != "" {
			out = append(out, fmt.Sprintf("tasks: cgroup v1 pids.max %d", o.MaxProcs+helperTasks))
		} else {
			out = append(out, "tasks: RLIMIT_NPROC only (no pids cgroup)")
		}
	}
	return append(out, fmt.Sprintf("wall time: %s", o.Timeout))
}

func (c *cgroups) add(pid int) error {
	var errs []error
	for _, d := range []string{c.v2, c.mem, c.pids} {
		if d != "" {
			if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
				errs = append(errs, fmt.Errorf("join %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// counter reads "key value" lines and reports whether key is above 0.
func counter(file, key string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == key && f[1] != "0" {
			return true
		}
	}
	return false
}

func (c *cgroups) hits() (mem, procs bool) {
	if c.v2 != "" {
		mem = counter(filepath.Join(c.v2, "memory.events"), "oom_kill") || counter(filepath.Join(c.v2, "memory.events"), "max")
		procs = counter(filepath.Join(c.v2, "pids.events"), "max")
		return mem, procs
	}
	if c.mem != "" {
		mem = counter(filepath.Join(c.mem, "memory.oom_control"), "oom_kill")
		if b, err := os.ReadFile(filepath.Join(c.mem, "memory.failcnt")); err == nil && strings.TrimSpace(string(b)) != "0" {
			mem = true
		}
	}
	if c.pids != "" {
		procs = counter(filepath.Join(c.pids, "pids.events"), "max")
	}
	return mem, procs
}

func (c *cgroups) remove() {
	for _, d := range []string{c.v2, c.mem, c.pids} {
		if d == "" {
			continue
		}
		// the namespace is dead by now; give the kernel a moment to reap
		for range 50 {
			if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
