package asciicast

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRecording(t *testing.T) {
	start := time.Unix(1_764_000_000, 0)
	now := start
	r := New(start, WithClock(func() time.Time { return now }))
	r.Resize(132, 43)
	r.SetEnv("TERM", "xterm-256color")
	r.SetEnv("SHELL", "/bin/sh")
	r.Output([]byte("\r\nBusyBox v1.19.4 built-in shell (ash)\r\n# "))
	now = now.Add(1500 * time.Millisecond)
	r.Input([]byte("echo -e '\\x7fELF'\r"))
	now = now.Add(250 * time.Millisecond)
	r.Output([]byte("\x7fELF\xff\"\\\x1b[0m\r\n# "))
	r.Resize(100, 30)
	got := r.Bytes()
	golden := filepath.Join("testdata", "session.cast")
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("recording differs from %s:\n%s", golden, got)
	}
	// Every line is valid JSON of the v2 shape.
	sc := bufio.NewScanner(bytes.NewReader(got))
	sc.Scan()
	var h struct {
		Version, Width, Height int
		Timestamp              int64
	}
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Version != 2 || h.Width != 132 || h.Height != 43 || h.Timestamp != start.Unix() {
		t.Fatalf("header %s: %v %+v", sc.Bytes(), err, h)
	}
	for sc.Scan() {
		var ev []any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("event %s: %v", sc.Bytes(), err)
		}
	}
	if r.Duration() != 1750*time.Millisecond || r.Truncated() || r.Len() != len(got)-bytes.IndexByte(got, '\n')-1 {
		t.Fatalf("duration %v truncated %v", r.Duration(), r.Truncated())
	}
}

func TestBounded(t *testing.T) {
	r := New(time.Now(), WithMaxBytes(1000))
	for range 100 {
		r.Output([]byte("0123456789abcdef"))
	}
	if !r.Truncated() || len(r.Bytes()) > 1200 {
		t.Fatalf("truncated %v, %d bytes", r.Truncated(), len(r.Bytes()))
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("\x00\x7f\xff\xe2\x80\xa8\"\\"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b := AppendString(nil, p)
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%q -> %s: %v", p, b, err)
		}
		if utf8.Valid(p) && s != string(p) {
			t.Fatalf("valid UTF-8 %q came back as %q", p, s)
		}
	})
}

func TestLargeRecordingIsWhole(t *testing.T) {
	r := New(time.Unix(0, 0), WithClock(func() time.Time { return time.Unix(1, 0) }))
	line := bytes.Repeat([]byte("x"), 1000)
	for range 500 {
		r.Output(line)
	}
	sc := bufio.NewScanner(bytes.NewReader(r.Bytes()))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if n > 0 {
			var ev []any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev[2] != string(line) {
				t.Fatalf("line %d: %v", n, err)
			}
		}
		n++
	}
	if n != 501 {
		t.Fatalf("%d lines, want 501", n)
	}
}

// A released recording's memory is reused by later recordings; what they
// record must be exactly their own.
func TestReleaseReuse(t *testing.T) {
	clock := WithClock(func() time.Time { return time.Unix(2, 0) })
	record := func(fill byte) *Recorder {
		r := New(time.Unix(0, 0), clock)
		line := bytes.Repeat([]byte{fill}, 3000)
		for range 200 { // 600 KB: several pooled chunks
			r.Output(line)
			r.Input(line[:10])
		}
		return r
	}
	want := record('b').Bytes()
	a := record('a')
	_ = a.Bytes()
	a.Release()
	a.Output([]byte("after release")) // ignored, must not touch reused memory
	b := record('b')
	if got := b.AppendTo(make([]byte, 0, 16)); !bytes.Equal(got, want) {
		t.Fatalf("recording after reuse differs (%d vs %d bytes)", len(got), len(want))
	}
	if bytes.Contains(b.Bytes(), []byte("aaa")) {
		t.Fatal("a released recording's bytes leaked into a later one")
	}
}

// Output that echoes the last input reuses its escaped form; the event must
// be exactly what escaping the whole output gives, whatever the bytes.
func TestEchoReuse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\\\"\r\n\t\x00\x7f\xc3\xa9\xe2\x80\xa8\xff ")
	gen := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		return b
	}
	for i := range 2000 {
		in := append(gen(64+rnd.IntN(200)), "\r\n"[rnd.IntN(2):]...)
		var out []byte
		switch i % 3 {
		case 0: // the echo, then command output
			out = append(append([]byte(nil), in...), gen(rnd.IntN(50))...)
		case 1: // not an echo
			out = gen(1 + rnd.IntN(300))
		case 2: // input ending inside a multibyte character that the output completes
			in[len(in)-1] = 0xc3
			out = append(append([]byte(nil), in...), 0xa9, 'x')
		}
		r := New(time.Unix(0, 0), WithClock(func() time.Time { return time.Unix(0, 0) }))
		r.Input(in)
		r.Output(out)
		want := `[0.000000, "o", ` + string(AppendString(nil, out)) + "]\n"
		if got := string(r.Bytes()); !strings.HasSuffix(got, want) {
			t.Fatalf("case %d: output event\n%q\nwant\n%q", i, got[strings.LastIndex(got[:len(got)-1], "\n")+1:], want)
		}
	}
}
