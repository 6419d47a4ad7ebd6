// Package ftp is the scanner's FTP grab module: it reads the greeting
// (a possibly multi-line 220 reply), says QUIT and never logs in.
package ftp

import (
	"bufio"
	"context"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
)

// Result is what the grab saw.
type Result struct {
	Banner string `json:"banner"`
	Code   int    `json:"code"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts { return scan.Facts{Service: "ftp", Banner: r.Banner} }

// Module is the FTP grabber.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "ftp" }
func (Module) Protocol() string    { return "ftp" }
func (Module) Transport() string   { return "tcp" }
func (Module) DefaultPort() uint16 { return 21 }

const (
	maxLines    = 32
	maxLineSize = 1024
)

// ParseReply reads one FTP reply (RFC 959 §4.2, multi-line form
// "220-…" … "220 …") and returns its code and text.
func ParseReply(r *bufio.Reader) (int, string, error) {
	var lines []string
	code := ""
	for range maxLines {
		line, err := readLine(r)
		if err != nil {
			return 0, strings.Join(lines, "\n"), err
		}
		lines = append(lines, line)
		if code == "" {
			if len(line) < 3 || !isDigits(line[:3]) {
				return 0, line, scan.ProtocolError("ftp: not a reply: %q", truncate(line, 40))
			}
			code = line[:3]
			if len(line) == 3 || line[3] != '-' {
				break
			}
			continue
		}
		if strings.HasPrefix(line, code+" ") || line == code {
			break
		}
	}
	n := int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	return n, strings.Join(lines, "\n"), nil
}

func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for len(b) < maxLineSize {
		c, err := r.ReadByte()
		if err != nil {
			if len(b) > 0 {
				return strings.ToValidUTF8(string(b), "\uFFFD"), nil
			}
			return "", err
		}
		if c == '\n' {
			break
		}
		b = append(b, c)
	}
	return strings.ToValidUTF8(strings.TrimRight(string(b), "\r"), "\uFFFD"), nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Scan reads the greeting.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	conn, err := t.Dial(ctx, "tcp")
	if err != nil {
		return scan.StatusFromError(err), nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	conn.SetDeadline(deadline)
	code, text, err := ParseReply(bufio.NewReaderSize(conn, 4096))
	if err != nil {
		return scan.StatusFromError(err), nil, err
	}
	res := &Result{Banner: text, Code: code}
	conn.Write([]byte("QUIT\r\n"))
	if code != 220 {
		return scan.StatusApplicationError, res, nil
	}
	return scan.StatusSuccess, res, nil
}
