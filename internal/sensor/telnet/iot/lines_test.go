package iot

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestLineReader(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		echo   bool
		lines  []string
		out    string
	}{
		{"crlf", []string{"ls\r\npwd\r\n"}, true, []string{"ls", "pwd"}, "ls\r\npwd\r\n"},
		{"cr lf split", []string{"ls\r", "\npwd\n"}, false, []string{"ls", "pwd"}, ""},
		{"bare cr", []string{"a\rb\r"}, true, []string{"a", "b"}, "a\r\nb\r\n"},
		{"erase", []string{"lsx\x7f\x08s -l\r\n"}, true, []string{"ls -l"}, "lsx\b \b\b \bs -l\r\n"},
		{"ctrl-c", []string{"rm -rf /\x03ls\n"}, true, []string{"", "ls"}, "rm -rf /^C\r\nls\r\n"},
		{"kill", []string{"junk\x15id\n"}, false, []string{"id"}, ""},
		{"no echo", []string{"s3cret\r\n"}, false, []string{"s3cret"}, ""},
		{"canon limit", []string{strings.Repeat("A", 5000) + "\n"}, false, []string{strings.Repeat("A", MaxCanon)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			chunks := tc.chunks
			r := LineReader{W: bufio.NewWriter(&out), Src: func() ([]byte, error) {
				if len(chunks) == 0 {
					return nil, io.EOF
				}
				c := chunks[0]
				chunks = chunks[1:]
				return []byte(c), nil
			}}
			for _, want := range tc.lines {
				got, err := r.Next(tc.echo)
				if err != nil || got != want {
					t.Fatalf("line %q, %v; want %q", got, err, want)
				}
			}
			if _, err := r.Next(tc.echo); err != io.EOF {
				t.Fatalf("after the lines: %v, want EOF", err)
			}
			r.W.Flush()
			if out.String() != tc.out {
				t.Fatalf("echo %q, want %q", out.String(), tc.out)
			}
		})
	}
}
