package shell

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Errors of the virtual filesystem, named after the errno they stand for
// because BusyBox prints strerror texts.
var (
	errNoEnt    = errors.New("No such file or directory")
	errExist    = errors.New("File exists")
	errNotDir   = errors.New("Not a directory")
	errIsDir    = errors.New("Is a directory")
	errNoSpace  = errors.New("No space left on device")
	errTooBig   = errors.New("File too large")
	errReadOnly = errors.New("Read-only file system")
	errPerm     = errors.New("Operation not permitted")
	errNotEmpty = errors.New("Directory not empty")
	errIO       = errors.New("Input/output error")
	errLoop     = errors.New("Too many levels of symbolic links")
)

type devKind uint8

const (
	devNone devKind = iota
	devNull
	devZero
	devRandom
	devTTY
)

// node is one file. data may be shared with the profile or other nodes and
// is never modified in place: writes build a new slice (copy on write).
type node struct {
	mode   fs.FileMode
	data   []byte
	target string
	mtime  time.Time
	dev    devKind
	gen    func() []byte // synthetic content (/proc), read-only
	ro     bool          // on a read-only or pseudo filesystem
	proc   bool          // under /proc: writes fail like procfs

	// capture bookkeeping
	dirty   bool     // content written in this session
	url     string   // where the content was downloaded from
	cmds    []string // command lines that built it
	ncmds   int      // how many command lines in total
	sampled string   // sha256 of the content last reported
	owned   bool     // data is not shared and may grow in place
	shared  bool     // part of a device's base filesystem: never modified
}

func (n *node) isDir() bool  { return n.mode&fs.ModeDir != 0 }
func (n *node) isLink() bool { return n.mode&fs.ModeSymlink != 0 }

func (n *node) content() []byte {
	if n.gen != nil {
		return n.gen()
	}
	return n.data
}

func (n *node) size() int64 {
	if n.gen != nil || n.dev != devNone {
		return 0
	}
	return int64(len(n.data))
}

// vfs is a session's filesystem: a flat map of absolute paths to nodes.
type vfs struct {
	nodes    map[string]*node
	used     int64 // bytes written in this session (tmpfs usage)
	maxBytes int64
	maxFile  int64
	budget   *MemBudget // the process's, charged with used
	maxNodes int
	now      func() time.Time
	mounts   []mount // longest mount point first
}

type mount struct {
	dir string
	ro  bool
}

// readOnly reports whether p lies on a read-only mount of the profile.
func (v *vfs) readOnly(p string) bool {
	for _, m := range v.mounts {
		if p == m.dir || m.dir == "/" || strings.HasPrefix(p, m.dir+"/") {
			return m.ro
		}
	}
	return false
}

// checkWritable returns the error for modifying p (an entry whose parent
// exists).
func (v *vfs) checkWritable(p string) error {
	if n := v.nodes[p]; n != nil && (n.proc || n.dev != devNone) {
		return nil
	}
	if v.readOnly(p) {
		return errReadOnly
	}
	return nil
}

func (v *vfs) mkdirChecked(p string) error {
	if v.nodes[p] != nil {
		return errExist
	}
	if _, err := v.parentDir(p); err != nil {
		return err
	}
	if d := v.nodes[path.Dir(p)]; d != nil && d.proc {
		return errNoEnt
	}
	if v.readOnly(p) {
		return errReadOnly
	}
	return v.mkdir(p)
}

// resolve returns the absolute path of name with all symbolic links
// followed (the last one only if follow is set). Dot-dot is resolved
// lexically first, as BusyBox's path handling does for the commands bots
// use. It walks the cleaned path in place: each prefix of it is the path of
// the component reached so far, so a lookup costs no allocation until a
// link is crossed.
func (v *vfs) resolve(cwd, name string, follow bool) (string, error) {
	if name == "" {
		return "", errNoEnt
	}
	if !path.IsAbs(name) {
		// relative names start at the physical working directory
		if cwd != "/" {
			if pc, err := v.resolve("/", cwd, true); err == nil {
				cwd = pc
			}
		}
		name = path.Join(cwd, name)
	} else if !isClean(name) {
		name = path.Clean(name)
	}
	hops := 0
	for i := 1; i < len(name); {
		end := len(name)
		if j := strings.IndexByte(name[i:], '/'); j >= 0 {
			end = i + j
		}
		last := end == len(name)
		next := name[:end]
		n := v.nodes[next]
		if n == nil {
			if last {
				return next, nil
			}
			return next, errNoEnt
		}
		if n.isLink() && (follow || !last) {
			hops++
			if hops > 16 {
				return "", errLoop
			}
			t := n.target
			if !path.IsAbs(t) {
				t = name[:max(i-1, 1)] + "/" + t
			}
			name, i = path.Clean(t+name[end:]), 1
			continue
		}
		if !n.isDir() && !last {
			return next, errNotDir
		}
		i = end + 1
	}
	return name, nil
}

// isClean reports whether the absolute path p is already in path.Clean's
// form, which most names bots type are.
func isClean(p string) bool {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		if i+1 < len(p) && p[i+1] == '/' {
			return false
		}
		if i+1 < len(p) && p[i+1] == '.' && (i+2 == len(p) || p[i+2] == '/' || p[i+2] == '.' && (i+3 == len(p) || p[i+3] == '/')) {
			return false
		}
	}
	return true
}

// own returns the node at p for modification: a shared base node is
// replaced by the session's own copy first.
func (v *vfs) own(p string, n *node) *node {
	if !n.shared {
		return n
	}
	c := *n
	c.shared = false
	v.nodes[p] = &c
	return &c
}

// lookup resolves name and returns its node.
func (v *vfs) lookup(cwd, name string, follow bool) (string, *node, error) {
	p, err := v.resolve(cwd, name, follow)
	if err != nil {
		return p, nil, err
	}
	n := v.nodes[p]
	if n == nil {
		return p, nil, errNoEnt
	}
	return p, n, nil
}

func (v *vfs) parentDir(p string) (*node, error) {
	d := v.nodes[path.Dir(p)]
	if d == nil {
		return nil, errNoEnt
	}
	if !d.isDir() {
		return nil, errNotDir
	}
	return d, nil
}

// create opens name for writing (truncating unless appending) and
// returns the resolved path.
func (v *vfs) create(cwd, name string, appendTo bool) (string, *node, error) {
	p, err := v.resolve(cwd, name, true)
	if err != nil {
		return p, nil, err
	}
	n := v.nodes[p]
	if n != nil {
		if n.isDir() {
			return p, nil, errIsDir
		}
		if n.dev != devNone || n.proc {
			return p, n, nil
		}
		if n.ro || v.readOnly(p) {
			return p, nil, errReadOnly
		}
		n = v.own(p, n)
		if !appendTo {
			v.free(int64(len(n.data)))
			n.data = nil
		}
		n.mtime = v.now()
		n.dirty = true
		return p, n, nil
	}
	d, err := v.parentDir(p)
	if err != nil {
		return p, nil, err
	}
	if d.proc {
		return p, nil, errNoEnt
	}
	if d.ro || v.readOnly(p) {
		return p, nil, errReadOnly
	}
	if len(v.nodes) >= v.maxNodes {
		return p, nil, errNoSpace
	}
	n = &node{mode: 0o644, mtime: v.now(), dirty: true}
	v.nodes[p] = n
	return p, n, nil
}

// write appends b to n within the session's limits.
func (v *vfs) write(n *node, b []byte) error {
	switch {
	case n.dev == devNull || n.dev == devZero || n.dev == devRandom:
		return nil
	case n.dev == devTTY:
		return nil
	case n.proc:
		return errIO
	}
	if int64(len(n.data))+int64(len(b)) > v.maxFile {
		room := v.maxFile - int64(len(n.data))
		if room > 0 {
			_ = v.write(n, b[:room])
		}
		return errTooBig
	}
	if v.used+int64(len(b)) > v.maxBytes {
		room := v.maxBytes - v.used
		if room > 0 {
			_ = v.write(n, b[:room])
		}
		return errNoSpace
	}
	if got := v.budget.take(int64(len(b))); got < int64(len(b)) {
		v.budget.release(got)
		if got > 0 {
			_ = v.write(n, b[:got])
		}
		return errNoSpace
	}
	// Copy on write: a slice not owned by this node may be shared with the
	// profile or another node, so it is copied before growing. Appending in
	// place is safe for an owned slice: sharers only see their own length.
	if n.owned && cap(n.data)-len(n.data) >= len(b) {
		n.data = append(n.data, b...)
	} else if n.owned {
		// Droppers append hundreds of small chunks: grow by doubling (plain
		// append grows large slices by a quarter, copying far more).
		nd := make([]byte, len(n.data)+len(b), 2*(len(n.data)+len(b))+64)
		copy(nd, n.data)
		copy(nd[len(n.data):], b)
		n.data = nd
	} else {
		nd := make([]byte, len(n.data)+len(b), len(n.data)+len(b)+len(b)+64)
		copy(nd, n.data)
		copy(nd[len(n.data):], b)
		n.data = nd
		n.owned = true
	}
	v.used += int64(len(b))
	n.mtime = v.now()
	n.dirty = true
	return nil
}

// free gives back n bytes of the session's usage (and the process's budget).
func (v *vfs) free(n int64) {
	n = min(n, v.used)
	if n <= 0 {
		return
	}
	v.used -= n
	v.budget.release(n)
}

// releaseAll gives the session's usage back to the process's budget when
// the session ends.
func (v *vfs) releaseAll() { v.free(v.used) }

// setData replaces the content of n.
func (v *vfs) setData(n *node, b []byte) error {
	if n.proc {
		return errIO
	}
	if n.dev != devNone {
		return nil
	}
	if int64(len(b)) > v.maxFile {
		return errTooBig
	}
	delta := int64(len(b)) - int64(len(n.data))
	if v.used+delta > v.maxBytes {
		return errNoSpace
	}
	if delta > 0 {
		if got := v.budget.take(delta); got < delta {
			v.budget.release(got)
			return errNoSpace
		}
		v.used += delta
	} else {
		v.free(-delta)
	}
	n.data = b
	n.owned = false
	n.mtime = v.now()
	n.dirty = true
	return nil
}

func (v *vfs) mkdir(p string) error {
	if v.nodes[p] != nil {
		return errExist
	}
	d, err := v.parentDir(p)
	if err != nil {
		return err
	}
	if d.proc {
		return errNoEnt
	}
	if d.ro {
		return errReadOnly
	}
	if len(v.nodes) >= v.maxNodes {
		return errNoSpace
	}
	v.nodes[p] = &node{mode: fs.ModeDir | 0o755, mtime: v.now(), ro: d.ro}
	return nil
}

// children returns the names in directory p, sorted.
func (v *vfs) children(p string) []string {
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	var out []string
	for k := range v.nodes {
		if k != "/" && strings.HasPrefix(k, prefix) && !strings.Contains(k[len(prefix):], "/") {
			out = append(out, k[len(prefix):])
		}
	}
	sort.Strings(out)
	return out
}

// remove deletes p (and everything below it).
func (v *vfs) remove(p string) {
	if n := v.nodes[p]; n != nil && !n.isDir() {
		// the common case (rm of a file) needs no walk over every node
		if n.owned || n.dirty {
			v.free(int64(len(n.data)))
		}
		delete(v.nodes, p)
		return
	}
	prefix := p + "/"
	for k, n := range v.nodes {
		if k == p || strings.HasPrefix(k, prefix) {
			if n.owned || n.dirty {
				v.free(int64(len(n.data)))
			}
			delete(v.nodes, k)
		}
	}
}

// rename moves p (and everything below it) to q.
func (v *vfs) rename(p, q string) {
	prefix := p + "/"
	moved := map[string]*node{}
	for k, n := range v.nodes {
		if k == p {
			moved[q] = n
			delete(v.nodes, k)
		} else if strings.HasPrefix(k, prefix) {
			moved[q+"/"+k[len(prefix):]] = n
			delete(v.nodes, k)
		}
	}
	for k, n := range moved {
		v.nodes[k] = n
	}
}
