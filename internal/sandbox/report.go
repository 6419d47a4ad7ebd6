package sandbox

import "time"

// ReportVersion is bumped when a field changes meaning.
const ReportVersion = 1

// Report is what one run observed. Its JSON form is stable: add fields,
// never rename or remove one. Attacker-controlled bytes (argv, paths,
// payloads) are kept as strings with invalid UTF-8 escaped by encoding/json
// or as []byte (base64); escape them again on any other output.
type Report struct {
	Version      int               `json:"version"`
	SHA256       string            `json:"sha256"`
	Size         int               `json:"size"`
	Arch         string            `json:"arch"`        // architecture the sample was run as
	DeviceArch   string            `json:"device_arch"` // what the profile says
	Emulator     string            `json:"emulator"`    // qemu-arm-static, native
	Network      string            `json:"network"`     // the policy's name
	SamplePath   string            `json:"sample_path"` // where the sample was placed
	Argv         []string          `json:"argv"`        // how it was started (argv[0] as typed)
	Cwd          string            `json:"cwd"`         // working directory it was started in
	Started      time.Time         `json:"started"`
	Duration     time.Duration     `json:"duration_ns"`
	Exit         Exit              `json:"exit"`
	Limits       Limits            `json:"limits"`
	Processes    []Process         `json:"processes"`
	Files        []FileOp          `json:"files"`
	DNS          []DNSQuery        `json:"dns"`
	Connections  []Connection      `json:"connections"`
	FanOut       map[string]int    `json:"fan_out"` // "tcp/23" → distinct destination addresses
	C2           []C2Candidate     `json:"c2"`
	Scans        []Scan            `json:"scans"`
	Exploits     []ExploitRequest  `json:"exploits"`
	DownloadURLs []DownloadURL     `json:"download_urls"`
	Kills        []Kill            `json:"kills"`
	Watchdog     []WatchdogAccess  `json:"watchdog"`
	SelfDeleted  bool              `json:"self_deleted"`
	ProcessNames []string          `json:"process_names,omitempty"`      // prctl(PR_SET_NAME) disguises
	RawSockets   int               `json:"raw_sockets,omitempty"`        // socket(…, SOCK_RAW) attempts (SYN scanners)
	RawDenied    int               `json:"raw_sockets_denied,omitempty"` // of those, refused (the note says so with the same numbers)
	Listens      []Listen          `json:"listens"`
	Persistence  Persistence       `json:"persistence"`
	Output       string            `json:"output,omitempty"` // first bytes the processes printed
	Notes        []string          `json:"notes,omitempty"`
	Counts       map[string]int    `json:"syscall_counts,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

// Exit is how the sample's first process ended.
type Exit struct {
	Code     int    `json:"code"`
	Signal   string `json:"signal,omitempty"`
	Core     bool   `json:"core_dumped,omitempty"`
	Running  bool   `json:"still_running,omitempty"` // killed at the end of the run
	Finished bool   `json:"finished"`                // exited on its own
}

// Limits tells which limits the run hit, and which were in force.
type Limits struct {
	Timeout bool `json:"timeout"`
	CPU     bool `json:"cpu"`
	Memory  bool `json:"memory"`
	Procs   bool `json:"procs"`
	FSize   bool `json:"fsize"`
	// Enforced says each limit and what enforced it ("memory: cgroup v2
	// memory.max 536870912 bytes", "memory: RLIMIT_DATA ... (no memory
	// cgroup)", "disk: tmpfs / 268435456 bytes", ...).
	Enforced []string `json:"enforced"`
}

// Process is one process (not thread) of the tree.
type Process struct {
	PID    int           `json:"pid"`
	PPID   int           `json:"ppid"`
	Argv   []string      `json:"argv,omitempty"`
	Exe    string        `json:"exe,omitempty"`
	SHA256 string        `json:"exe_sha256,omitempty"`
	Start  time.Duration `json:"start_ns"`
	Exit   *Exit         `json:"exit,omitempty"`
	Execs  []ExecCall    `json:"execs,omitempty"` // every successful execve, in order (at most 8)
	cwd    string        // working directory, for relative paths in the trace
}

// ExecCall is one successful execve of a process.
type ExecCall struct {
	Exe    string        `json:"exe"`
	Argv   []string      `json:"argv,omitempty"`
	Offset time.Duration `json:"offset_ns"`
}

// FileOp is a change to the filesystem.
type FileOp struct {
	Op         string `json:"op"` // write, delete, rename, chmod, mkdir, symlink, link
	Path       string `json:"path"`
	To         string `json:"to,omitempty"`   // rename, symlink, link target
	Mode       string `json:"mode,omitempty"` // chmod
	PID        int    `json:"pid"`
	Size       int64  `json:"size,omitempty"`
	SHA256     string `json:"sha256,omitempty"` // content at the end of the run
	Persistent bool   `json:"persistent"`       // on a flash mount
	Missing    bool   `json:"missing,omitempty"`
	Failed     string `json:"failed,omitempty"` // the error of a refused write or delete (EROFS, ENOSPC, ...)
}

// Listen is an address the sample bound (Mirai binds 127.0.0.1:48101 as
// its single-instance lock; its killer binds 22 and 23).
type Listen struct {
	Proto     string `json:"proto"`
	Addr      string `json:"addr"`
	PID       int    `json:"pid"`
	Listening bool   `json:"listening"` // listen() followed the bind
}

// DNSQuery is one question the fake resolver received, and what the
// sample got back.
type DNSQuery struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Answer string `json:"answer,omitempty"` // the A record sent back; empty: an empty NOERROR answer
	Count  int    `json:"count"`
	// Resolvers are the addresses the sample asked (8.8.8.8:53, the
	// device's nameserver, ...); the answer came from the same address.
	Resolvers []string `json:"resolvers,omitempty"`
	// Received says the answer was sent back to the sample from the
	// resolver address it asked; false means the reply could not be sent.
	Received bool `json:"received"`
}

// Connection aggregates the attempts to one destination.
type Connection struct {
	Proto    string        `json:"proto"`
	Dst      string        `json:"dst"` // ip:port
	Name     string        `json:"name,omitempty"`
	Count    int           `json:"count"`    // connect()/sendto() attempts
	Captured int           `json:"captured"` // sessions the fake Internet recorded
	Bytes    int64         `json:"bytes"`
	First    string        `json:"first_bytes,omitempty"` // escaped
	Duration time.Duration `json:"duration_ns"`           // longest session
}

// C2Candidate is a destination that looks like a command-and-control server.
type C2Candidate struct {
	Dst     string   `json:"dst"`
	Name    string   `json:"name,omitempty"`
	Reasons []string `json:"reasons"`
}

// Scan is many targets on one port.
type Scan struct {
	Proto   string   `json:"proto"`
	Port    int      `json:"port"`
	Targets int      `json:"targets"`
	Count   int      `json:"count"`
	Sample  []string `json:"sample_targets"`
}

// ExploitRequest is a request that a matcher recognised, or an HTTP
// request carrying a command.
type ExploitRequest struct {
	Dst     string         `json:"dst"`
	First   string         `json:"first_bytes"` // escaped
	Matches []ExploitMatch `json:"matches"`
	URLs    []string       `json:"urls,omitempty"`
}

// DownloadURL is a URL the sample fetched or told a victim to fetch.
type DownloadURL struct {
	URL    string `json:"url"`
	Source string `json:"source"` // http-request, exploit-payload
}

// Kill is a signal sent to another process.
type Kill struct {
	PID       int    `json:"pid"`
	TargetPID int    `json:"target_pid"`
	Target    string `json:"target,omitempty"` // exe of the target
	Signal    string `json:"signal"`
	Errno     string `json:"errno,omitempty"` // why it failed (EPERM for the sandbox's own processes)
}

// WatchdogAccess is an open or ioctl of a watchdog device, which bots do to
// stop the device from rebooting itself clean.
type WatchdogAccess struct {
	PID  int    `json:"pid"`
	Op   string `json:"op"` // open, ioctl
	Path string `json:"path"`
	Arg  string `json:"arg,omitempty"`
}

// Verdicts.
const (
	VerdictVolatile   = "volatile"
	VerdictPersistent = "persistent"
	VerdictUnknown    = "unknown"
)

// Persistence is the verdict on whether a reboot removes the infection.
type Persistence struct {
	Verdict      string    `json:"verdict"`
	Reason       string    `json:"reason"`
	Files        []string  `json:"files,omitempty"`    // persistence mechanisms written
	Attempts     []string  `json:"attempts,omitempty"` // writes to flash or boot files the device refused ("write /etc/inittab: EROFS")
	RebootRun    bool      `json:"reboot_run"`
	Restarted    bool      `json:"restarted"` // the sample ran again after the simulated reboot
	RebootProcs  []Process `json:"reboot_processes,omitempty"`
	RemovalSteps []string  `json:"removal_steps"`
}
