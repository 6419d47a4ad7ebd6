package shell

import (
	"io/fs"
	"path"
	"testing"
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
