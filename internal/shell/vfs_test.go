package shell

import (
	"io/fs"
	"math/rand"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

func TestIsClean(t *testing.T) {
	for _, p := range []string{
		"/", "//", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/..", "/.", "/a/..b", "/a/.b",
		"/a/b.", "/a/...", "/a/b/..", "/a/b/.", "/tmp/.nippon", "/dev/.x/..y",
	} {
		if got, want := isClean(p), path.Clean(p) == p; got != want {
			t.Errorf("isClean(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestResolve(t *testing.T) {
	v := &vfs{nodes: map[string]*node{
		"/":            {mode: fs.ModeDir | 0o755},
		"/bin":         {mode: fs.ModeDir | 0o755},
		"/bin/busybox": {mode: 0o755},
		"/bin/sh":      {mode: fs.ModeSymlink | 0o777, target: "busybox"},
		"/var":         {mode: fs.ModeDir | 0o755},
		"/var/tmp":     {mode: fs.ModeSymlink | 0o777, target: "/tmp"},
		"/tmp":         {mode: fs.ModeDir | 0o777},
		"/loop":        {mode: fs.ModeSymlink | 0o777, target: "loop"},
		"/up":          {mode: fs.ModeSymlink | 0o777, target: "bin/../var/tmp"},
	}}
	for _, c := range []struct {
		cwd, name string
		follow    bool
		want      string
		err       error
	}{
		{"/", "/bin/sh", true, "/bin/busybox", nil},
		{"/", "/bin/sh", false, "/bin/sh", nil},
		{"/bin", "sh", true, "/bin/busybox", nil},
		{"/var/tmp", "x", true, "/tmp/x", nil},
		{"/", "/var/tmp/new", true, "/tmp/new", nil},
		{"/", "/var//tmp/./a/../b", true, "/tmp/b", nil},
		{"/", "/up/f", true, "/tmp/f", nil},
		{"/", "/nope/f", true, "/nope", errNoEnt},
		{"/", "/bin/busybox/x", true, "/bin/busybox", errNotDir},
		{"/", "/loop", true, "", errLoop},
		{"/", "/", true, "/", nil},
		{"/", "", true, "", errNoEnt},
	} {
		got, err := v.resolve(c.cwd, c.name, c.follow)
		if got != c.want || err != c.err {
			t.Errorf("resolve(%q, %q, %v) = %q, %v; want %q, %v", c.cwd, c.name, c.follow, got, err, c.want, c.err)
		}
	}
}

// Sessions of one device start from one shared base filesystem; what one
// session changes, another never sees, even while both run.
func TestSessionsDoNotShareChanges(t *testing.T) {
	p := profile.ByName(profile.Defaults(), "nas-x86_64") // a writable root
	dev := p.Instantiate([]byte("test-seed"))
	shellFor := func() *Shell {
		return New(Config{Device: dev, Username: "root", Now: func() time.Time { return testNow }, Rand: rand.New(rand.NewSource(1))})
	}
	orig := run(t, shellFor(), "ls -l /bin/busybox; cat /etc/passwd; ls -l /etc/passwd")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := shellFor()
			for range 20 {
				run(t, s, "chmod 700 /bin/busybox; echo evil"+strconv.Itoa(i)+" >> /etc/passwd; touch /etc/passwd; cp /bin/busybox /tmp/x; chmod 777 /tmp/x; mv /etc/passwd /tmp/p; echo > /etc/passwd")
			}
		}()
	}
	wg.Wait()
	if got := run(t, shellFor(), "ls -l /bin/busybox; cat /etc/passwd; ls -l /etc/passwd"); got != orig {
		t.Fatalf("a new session sees another session's changes:\n%s\nwant\n%s", got, orig)
	}
	s := shellFor()
	run(t, s, "chmod 700 /bin/busybox; echo mine >> /etc/passwd")
	if got := run(t, s, "ls -l /bin/busybox; tail -n 1 /etc/passwd"); !strings.Contains(got, "-rwx------") || !strings.Contains(got, "mine") {
		t.Fatalf("a session does not see its own changes:\n%s", got)
	}
}
