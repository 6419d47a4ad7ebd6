package ftp

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseReply(t *testing.T) {
	tests := []struct {
		in   string
		code int
		text string
		bad  bool
	}{
		{in: "220 ProFTPD Server ready.\r\n", code: 220, text: "220 ProFTPD Server ready."},
		{in: "220-Welcome\r\n220-to the logger\r\n220 Ready\r\n", code: 220, text: "220-Welcome\n220-to the logger\n220 Ready"},
		{in: "421 Too many users\r\n", code: 421, text: "421 Too many users"},
		{in: "SSH-2.0-x\r\n", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		code, text, err := ParseReply(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.bad != (err != nil) || code != tt.code || (!tt.bad && text != tt.text) {
			t.Errorf("%q: %d %q %v", tt.in, code, text, err)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add([]byte("220-a\r\n220 b\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, _, err := ParseReply(bufio.NewReader(strings.NewReader(string(b))))
		if err == nil && (code < 0 || code > 999) {
			t.Fatalf("code %d", code)
		}
	})
}
