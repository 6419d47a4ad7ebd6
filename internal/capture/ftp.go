package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bounds on what an FTP server may send on the control connection.
const (
	maxFTPLine  = 1024
	maxFTPLines = 64
)

// FTPReply is one (possibly multi-line) FTP reply.
type FTPReply struct {
	Code int
	Text string
}

// ReadFTPReply reads one reply per RFC 959 §4.2: "ddd text" or a
// "ddd-" first line continued until a line starting "ddd ".
func ReadFTPReply(r *bufio.Reader) (FTPReply, error) {
	line, err := readFTPLine(r)
	if err != nil {
		return FTPReply{}, err
	}
	code, multi, err := ftpCode(line)
	if err != nil {
		return FTPReply{}, err
	}
	rep := FTPReply{Code: code, Text: strings.TrimSpace(line[min(4, len(line)):])}
	for n := 0; multi; n++ {
		if n >= maxFTPLines {
			return rep, fmt.Errorf("ftp: reply longer than %d lines", maxFTPLines)
		}
		line, err = readFTPLine(r)
		if err != nil {
			return rep, err
		}
		if c, m, err := ftpCode(line); err == nil && c == code && !m {
			multi = false
		}
		rep.Text += "\n" + strings.TrimSpace(line)
	}
	return rep, nil
}

func readFTPLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := r.ReadLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", fmt.Errorf("ftp: read reply: %w", err)
		}
		b = append(b, chunk...)
		if len(b) > maxFTPLine {
			return "", fmt.Errorf("ftp: reply line longer than %d bytes", maxFTPLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

func ftpCode(line string) (code int, multi bool, err error) {
	if len(line) < 3 {
		return 0, false, fmt.Errorf("ftp: bad reply %q", line)
	}
	code, err = strconv.Atoi(line[:3])
	if err != nil || code < 100 || code > 599 {
		return 0, false, fmt.Errorf("ftp: bad reply code %q", line[:min(3, len(line))])
	}
	return code, len(line) > 3 && line[3] == '-', nil
}

// ParsePASV returns the port of a 227 reply. The address in it is
// ignored: data connections go to the control connection's (checked)
// peer, which also defeats FTP bounce.
func ParsePASV(text string) (uint16, error) {
	i, j := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	var nums string
	if i >= 0 && j > i {
		nums = text[i+1 : j]
	} else {
		// Some servers omit the parentheses: take the first run of digits and commas.
		k := strings.IndexAny(text, "0123456789")
		if k < 0 {
			return 0, fmt.Errorf("ftp: bad PASV reply %q", text)
		}
		nums = strings.TrimRight(text[k:], ". \r\n")
	}
	parts := strings.Split(nums, ",")
	if len(parts) != 6 {
		return 0, fmt.Errorf("ftp: bad PASV reply %q", text)
	}
	var v [6]int
	for k, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 || n > 255 {
			return 0, fmt.Errorf("ftp: bad PASV reply %q", text)
		}
		v[k] = n
	}
	port := v[4]<<8 | v[5]
	if port == 0 {
		return 0, fmt.Errorf("ftp: PASV port 0")
	}
	return uint16(port), nil
}

// ParseEPSV returns the port of a 229 reply "(|||port|)" (RFC 2428).
func ParseEPSV(text string) (uint16, error) {
	i, j := strings.IndexByte(text, '('), strings.LastIndexByte(text, ')')
	if i < 0 || j < i+5 {
		return 0, fmt.Errorf("ftp: bad EPSV reply %q", text)
	}
	inner := text[i+1 : j]
	d := inner[0]
	parts := strings.Split(inner, string(d))
	if len(parts) != 5 || parts[1] != "" || parts[2] != "" || parts[4] != "" {
		return 0, fmt.Errorf("ftp: bad EPSV reply %q", text)
	}
	n, err := strconv.Atoi(parts[3])
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("ftp: bad EPSV port in %q", text)
	}
	return uint16(n), nil
}

// fetchFTP retrieves ftp://[user[:pass]@]host[:port]/path in passive
// binary mode, anonymously unless the URL names a user (as ftpget does).
func (f *Fetcher) fetchFTP(ctx context.Context, u *url.URL) (*Result, error) {
	file := u.Path
	if file == "" || file == "/" || strings.ContainsAny(file, "\r\n") {
		return nil, withKind(KindBadURL, fmt.Errorf("bad ftp path %q", file))
	}
	// RFC 1738: the URL path is relative to the login directory.
	file = strings.TrimPrefix(file, "/")
	user, pass := "anonymous", "anonymous"
	if u.User != nil {
		user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pass = p
		}
	}
	if strings.ContainsAny(user+pass, "\r\n") {
		return nil, withKind(KindBadURL, errors.New("control characters in ftp credentials"))
	}
	c, peer, err := f.dial(ctx, "tcp", u.Hostname(), portOf(u, 21))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	res := &Result{URL: u.String(), FinalURL: u.String(), Addr: peer}
	r := bufio.NewReaderSize(c, 4096)
	cmd := func(line string, ok ...int) (FTPReply, error) {
		if line != "" {
			if _, err := io.WriteString(c, line+"\r\n"); err != nil {
				return FTPReply{}, err
			}
		}
		rep, err := ReadFTPReply(r)
		for err == nil && rep.Code < 200 && line != "" && !contains(ok, rep.Code) {
			rep, err = ReadFTPReply(r) // preliminary replies
		}
		if err != nil {
			return rep, withKind(KindProtocol, err)
		}
		res.Status = rep.Code
		if !contains(ok, rep.Code) {
			return rep, withKind(KindRemote, fmt.Errorf("ftp: %q: %d %s", strings.Fields(line + " ")[0], rep.Code, rep.Text))
		}
		return rep, nil
	}
	if _, err := cmd("", 220); err != nil {
		return res, err
	}
	rep, err := cmd("USER "+user, 230, 331)
	if err != nil {
		return res, err
	}
	if rep.Code == 331 {
		if _, err := cmd("PASS "+pass, 230, 202); err != nil {
			return res, err
		}
	}
	if _, err := cmd("TYPE I", 200); err != nil {
		return res, err
	}
	var port uint16
	if rep, err := cmd("EPSV", 229); err == nil {
		port, err = ParseEPSV(rep.Text)
		if err != nil {
			return res, withKind(KindProtocol, err)
		}
	} else if classify(err) != KindRemote {
		return res, err
	} else {
		rep, err := cmd("PASV", 227)
		if err != nil {
			return res, err
		}
		if port, err = ParsePASV(rep.Text); err != nil {
			return res, withKind(KindProtocol, err)
		}
	}
	d := net.Dialer{ControlContext: f.control}
	dc, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(peer.Addr(), port).String())
	if err != nil {
		return res, err
	}
	defer dc.Close()
	stopData := context.AfterFunc(ctx, func() { _ = dc.SetDeadline(time.Now()) })
	defer stopData()
	if _, err := cmd("RETR "+file, 150, 125); err != nil {
		return res, err
	}
	body, err := io.ReadAll(io.LimitReader(dc, f.cfg.MaxBytes+1))
	if err != nil {
		return res, err
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return res, withKind(KindTooLarge, fmt.Errorf("ftp: file over %d bytes", f.cfg.MaxBytes))
	}
	dc.Close()
	if _, err := cmd("", 226, 250); err != nil {
		return res, err
	}
	_, _ = io.WriteString(c, "QUIT\r\n")
	res.Body = body
	return res, nil
}

func contains(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}
