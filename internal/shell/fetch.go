package shell

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
)

// FetchReason says why a download failed, so the tool can print the text
// the device's BusyBox prints.
type FetchReason int

const (
	FetchFailed     FetchReason = iota // anything else: printed as a timeout
	FetchRefused                       // connection refused (also: address not allowed)
	FetchNoHost                        // name does not resolve
	FetchHTTPStatus                    // the server answered with an error status
	FetchNotFound                      // tftp/ftp: no such file
)

// FetchError may be returned by Hooks.Fetch to choose the error message.
type FetchError struct {
	Reason FetchReason
	// Status is the HTTP status line ("HTTP/1.1 404 Not Found") or the
	// server's FTP/TFTP reply for FetchHTTPStatus and FetchNotFound.
	Status string
	Err    error
}

func (e *FetchError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("fetch: %v", e.Err)
	}
	return fmt.Sprintf("fetch failed (reason %d) %s", e.Reason, e.Status)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Resolver is an optional capability of Hooks: the address wget prints in
// "Connecting to host (addr:port)". Without it a host name is shown as is.
type Resolver interface {
	LookupHost(ctx context.Context, host string) (string, error)
}

func fetchReason(err error) (FetchReason, string) {
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Reason, fe.Status
	}
	return FetchFailed, ""
}

// fetch calls the hook and records the URL of what came back.
func (s *Shell) fetch(ctx context.Context, tool, u string) ([]byte, error) {
	if s.cfg.Hooks == nil {
		return nil, &FetchError{Reason: FetchRefused}
	}
	t := s.waitStart()
	body, err := s.cfg.Hooks.Fetch(ctx, tool, u)
	s.waitEnd(t)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > s.lim.MaxFileBytes {
		body = body[:s.lim.MaxFileBytes]
	}
	sum := sha256.Sum256(body)
	k := hex.EncodeToString(sum[:])
	if _, ok := s.fetched[k]; !ok {
		s.fetched[k] = u
	}
	return body, nil
}

func (s *Shell) hostAddr(ctx context.Context, host string) string {
	if _, err := netipParse(host); err == nil {
		return host
	}
	if r, ok := s.cfg.Hooks.(Resolver); ok {
		if a, err := r.LookupHost(ctx, host); err == nil {
			return a
		}
	}
	return host
}

func netipParse(h string) (net.IP, error) {
	ip := net.ParseIP(h)
	if ip == nil {
		return nil, errors.New("not an address")
	}
	return ip, nil
}

// storeDownload writes body to name in the VFS and marks it as fetched
// from u.
func (s *Shell) storeDownload(name string, body []byte, u string) error {
	_, n, err := s.fs.create(s.cwd, name, false)
	if err != nil {
		return err
	}
	if n.dev != devNone || n.proc {
		return s.fs.write(n, body)
	}
	if err := s.fs.setData(n, body); err != nil {
		return err
	}
	n.url = u
	n.cmds = nil
	n.ncmds = 0
	n.sampled = ""
	return nil
}

func splitHostPort(u *url.URL, def string) (string, string) {
	h, p := u.Hostname(), u.Port()
	if p == "" {
		p = def
	}
	return h, p
}

// progressSize renders BusyBox's 5-character transfer size.
func progressSize(n int64) string {
	if n < 100000 {
		return fmt.Sprintf("%5d", n)
	}
	units := "kMGTPEZY"
	v := n
	i := -1
	var rem int64
	for v >= 10000 || i < 0 {
		rem = v % 1024
		v /= 1024
		i++
		if v < 10000 {
			break
		}
	}
	if v < 100 {
		return fmt.Sprintf("%2d.%d%c", v, rem*10/1024, units[i])
	}
	return fmt.Sprintf("%4d%c", v, units[i])
}

func (s *Shell) wgetProgress(name string, n int64) string {
	if len(name) > 20 {
		name = name[:20]
	}
	if s.bbMinor() >= 25 {
		return fmt.Sprintf("%-20s 100%% |%s| %s  0:00:00 ETA\n", name, strings.Repeat("*", 32), progressSize(n))
	}
	return fmt.Sprintf("%-20s 100%% |%s| %s  0:00:00 ETA\n", name, strings.Repeat("*", 31), progressSize(n))
}

// wgetArgs are the options of BusyBox wget that matter here.
type wgetArgs struct {
	out, dir string
	quiet    bool
	urls     []string
}

func parseWget(args []string) wgetArgs {
	var w wgetArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--output-document" || a == "--directory-prefix":
			if i+1 < len(args) {
				if a == "--output-document" {
					w.out = args[i+1]
				} else {
					w.dir = args[i+1]
				}
				i++
			}
		case a == "--quiet":
			w.quiet = true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// combined short options: -qO- , -O file, -P dir
			for j := 1; j < len(a); j++ {
				f := a[j]
				if strings.IndexByte("OPUoYTt", f) >= 0 {
					v := a[j+1:]
					if v == "" && i+1 < len(args) {
						i++
						v = args[i]
					}
					switch f {
					case 'O':
						w.out = v
					case 'P':
						w.dir = v
					}
					break
				}
				if f == 'q' {
					w.quiet = true
				}
			}
		default:
			w.urls = append(w.urls, a)
		}
	}
	return w
}

// wgetURL is the URL wget fetches for one argument, or an error when wget
// refuses it.
func wgetURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ftp") {
		return nil, fmt.Errorf("not an http or ftp url: %s", raw)
	}
	return u, nil
}

func cmdWget(s *Shell, c *call) int {
	w := parseWget(c.args[1:])
	out, quiet, dir, urls := w.out, w.quiet, w.dir, w.urls
	if len(urls) == 0 {
		return s.usage(c, "wget")
	}
	st := 0
	for _, raw := range urls {
		u, err := wgetURL(raw)
		if err != nil {
			c.errf("%s", err)
			st = 1
			continue
		}
		def := map[string]string{"http": "80", "https": "443", "ftp": "21"}[u.Scheme]
		host, port := splitHostPort(u, def)
		addr := s.hostAddr(c.ctx, host)
		if !quiet {
			fmt.Fprintf(c.err, "Connecting to %s (%s)\n", u.Host, net.JoinHostPort(addr, port))
		}
		body, err := s.fetch(c.ctx, "wget", u.String())
		if err != nil {
			reason, status := fetchReason(err)
			switch reason {
			case FetchRefused:
				c.errf("can't connect to remote host (%s): Connection refused", addr)
			case FetchNoHost:
				c.errf("bad address '%s'", host)
			case FetchHTTPStatus, FetchNotFound:
				if status == "" {
					status = "HTTP/1.1 404 Not Found"
				}
				c.errf("server returned error: %s", status)
			default:
				c.errf("download timed out")
			}
			st = 1
			continue
		}
		name := out
		if name == "" {
			name = path.Base(u.Path)
			if name == "/" || name == "." || name == "" {
				name = "index.html"
			}
			if dir != "" {
				name = path.Join(dir, name)
			}
		}
		if name == "-" {
			if !quiet && s.bbMinor() >= 25 {
				fmt.Fprintln(c.err, "writing to stdout")
			}
			c.out.Write(body)
			if !quiet {
				fmt.Fprint(c.err, s.wgetProgress("-", int64(len(body))))
				if s.bbMinor() >= 25 {
					fmt.Fprintln(c.err, "written to stdout")
				}
			}
			continue
		}
		// BusyBox opens the file before it says where it saves
		if _, _, err := s.fs.create(s.cwd, name, false); err != nil {
			c.errf("can't open '%s': %s", name, err)
			st = 1
			continue
		}
		if !quiet && s.bbMinor() >= 25 {
			fmt.Fprintf(c.err, "saving to '%s'\n", name)
		}
		if err := s.storeDownload(name, body, u.String()); err != nil {
			if err == errNoEnt || err == errNotDir {
				c.errf("can't open '%s': %s", name, err)
			} else {
				c.errf("write error: %s", err)
			}
			st = 1
			continue
		}
		if !quiet {
			fmt.Fprint(c.err, s.wgetProgress(path.Base(name), int64(len(body))))
			if s.bbMinor() >= 25 {
				fmt.Fprintf(c.err, "'%s' saved\n", name)
			}
		}
	}
	return st
}

// curlArgs are the options of curl that matter here.
type curlArgs struct {
	out                string
	remoteName, silent bool
	urls               []string
}

func parseCurl(args []string) curlArgs {
	var k curlArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--output":
			if i+1 < len(args) {
				k.out = args[i+1]
				i++
			}
		case a == "-O" || a == "--remote-name":
			k.remoteName = true
		case a == "-A" || a == "-H" || a == "-d" || a == "-X" || a == "-m" || a == "-u" || a == "-e" || a == "--connect-timeout" || a == "--max-time":
			i++
		case strings.HasPrefix(a, "-") && len(a) > 1 && !strings.HasPrefix(a, "--"):
			k.silent = k.silent || strings.ContainsAny(a, "s")
			k.remoteName = k.remoteName || strings.Contains(a, "O")
			if strings.HasSuffix(a, "o") && i+1 < len(args) {
				k.out = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--"):
			k.silent = k.silent || a == "--silent"
		default:
			k.urls = append(k.urls, a)
		}
	}
	return k
}

// curlURL is the URL curl fetches for one argument.
func curlURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, errors.New("bad url")
	}
	return u, nil
}

func cmdCurl(s *Shell, c *call) int {
	k := parseCurl(c.args[1:])
	out, remoteName, silent, urls := k.out, k.remoteName, k.silent, k.urls
	if len(urls) == 0 {
		fmt.Fprintln(c.err, "curl: try 'curl --help' or 'curl --manual' for more information")
		return 2
	}
	st := 0
	for _, raw := range urls {
		u, err := curlURL(raw)
		if err != nil {
			fmt.Fprintf(c.err, "curl: (3) URL using bad/illegal format or missing URL\n")
			st = 3
			continue
		}
		host, port := splitHostPort(u, map[string]string{"https": "443", "ftp": "21"}[u.Scheme])
		if port == "" {
			port = "80"
		}
		toFile := out != "" || remoteName
		body, err := s.fetch(c.ctx, "curl", u.String())
		if err != nil {
			reason, status := fetchReason(err)
			// -s hides the progress meter; curl prints errors anyway
			// unless -S is absent, which bots never rely on.
			{
				switch reason {
				case FetchRefused:
					fmt.Fprintf(c.err, "curl: (7) Failed to connect to %s port %s: Connection refused\n", host, port)
					st = 7
				case FetchNoHost:
					fmt.Fprintf(c.err, "curl: (6) Could not resolve host: %s\n", host)
					st = 6
				case FetchHTTPStatus, FetchNotFound:
					// without -f curl saves the error page; the fetcher gave none
					_ = status
					st = 0
				default:
					fmt.Fprintf(c.err, "curl: (28) Connection timed out after 30001 milliseconds\n")
					st = 28
				}
			}
			continue
		}
		if !toFile {
			c.out.Write(body)
			continue
		}
		name := out
		if name == "" {
			name = path.Base(u.Path)
			if name == "/" || name == "." {
				fmt.Fprintln(c.err, "curl: Remote file name has no length!")
				st = 23
				continue
			}
		}
		if !silent {
			n := len(body)
			fmt.Fprintf(c.err, "  %% Total    %% Received %% Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n")
			fmt.Fprintf(c.err, "100 %5d  100 %5d    0     0  %5d      0 --:--:-- --:--:-- --:--:-- %5d\n", n, n, n*7, n*7)
		}
		if err := s.storeDownload(name, body, u.String()); err != nil {
			fmt.Fprintf(c.err, "curl: (23) Failure writing output to destination\n")
			st = 23
		}
	}
	return st
}

// tftpArgs are BusyBox tftp's options.
type tftpArgs struct {
	local, remote string
	get, hpa      bool
	rest          []string // host [port]
}

func parseTftp(args []string) tftpArgs {
	var t tftpArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || len(a) < 2 {
			t.rest = append(t.rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'g':
				t.get = true
			case 'c':
				t.hpa = true
			case 'p':
			case 'l', 'r', 'b':
				v := a[j+1:]
				if v == "" && i+1 < len(args) {
					i++
					v = args[i]
				}
				switch a[j] {
				case 'l':
					t.local = v
				case 'r':
					t.remote = v
				}
				j = len(a)
			}
		}
	}
	if t.remote == "" {
		t.remote = t.local
	}
	if t.local == "" && t.remote != "" {
		t.local = path.Base(t.remote)
	}
	return t
}

// url is what a get fetches; "" for a put or a command without a host.
func (t tftpArgs) url() string {
	if len(t.rest) == 0 || !t.get || t.hpa || t.remote == "" {
		return ""
	}
	port := "69"
	if len(t.rest) > 1 {
		port = t.rest[1]
	}
	return "tftp://" + net.JoinHostPort(t.rest[0], port) + "/" + strings.TrimPrefix(t.remote, "/")
}

func cmdTftp(s *Shell, c *call) int {
	t := parseTftp(c.args[1:])
	local, remote, get, tftpHPA, rest := t.local, t.remote, t.get, t.hpa, t.rest
	if tftpHPA {
		// tftp-hpa syntax (tftp HOST -c get FILE), which BusyBox's tftp
		// does not speak: it ends up waiting for nothing
		c.errf("timeout")
		return 1
	}
	if len(rest) == 0 || (!get && remote == "" && local == "") {
		return s.usage(c, "tftp")
	}
	if !get {
		// put: the honeypot does not upload; the server "times out"
		c.errf("timeout")
		return 1
	}
	host := rest[0]
	u := t.url()
	// BusyBox opens the local file before it talks to the server
	if _, _, err := s.fs.create(s.cwd, local, false); err != nil {
		c.errf("can't open '%s': %s", local, err)
		return 1
	}
	body, err := s.fetch(c.ctx, "tftp", u)
	if err != nil {
		reason, status := fetchReason(err)
		switch reason {
		case FetchNotFound, FetchHTTPStatus:
			if status == "" {
				status = "File not found"
			}
			c.errf("server error: (1) %s", status)
		case FetchNoHost:
			c.errf("bad address '%s'", host)
		default:
			c.errf("timeout")
		}
		s.fs.remove(mustResolve(s, local))
		return 1
	}
	if err := s.storeDownload(local, body, u); err != nil {
		c.errf("write error: %s", err)
		return 1
	}
	return 0
}

func mustResolve(s *Shell, name string) string {
	p, _ := s.fs.resolve(s.cwd, name, true)
	return p
}

// ftpgetArgs are BusyBox ftpget's options and operands.
type ftpgetArgs struct {
	host, local, url string // url is "" without host and local file
}

func parseFtpget(args []string) ftpgetArgs {
	user, pass, port := "anonymous", "busybox@", "21"
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-u", "--username":
			if i+1 < len(args) {
				user = args[i+1]
				i++
			}
		case "-p", "--password":
			if i+1 < len(args) {
				pass = args[i+1]
				i++
			}
		case "-P", "--port":
			if i+1 < len(args) {
				port = args[i+1]
				i++
			}
		case "-v", "-c":
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) < 2 {
		return ftpgetArgs{}
	}
	f := ftpgetArgs{host: rest[0], local: rest[1]}
	remote := f.local
	if len(rest) > 2 {
		remote = rest[2]
	}
	f.url = (&url.URL{Scheme: "ftp", User: url.UserPassword(user, pass), Host: net.JoinHostPort(f.host, port), Path: "/" + strings.TrimPrefix(remote, "/")}).String()
	return f
}

func cmdFtpget(s *Shell, c *call) int {
	f := parseFtpget(c.args[1:])
	if f.url == "" {
		return s.usage(c, "ftpget")
	}
	host, local, u := f.host, f.local, f.url
	body, err := s.fetch(c.ctx, "ftpget", u)
	if err != nil {
		reason, status := fetchReason(err)
		switch reason {
		case FetchRefused:
			c.errf("can't connect to remote host (%s): Connection refused", s.hostAddr(c.ctx, host))
		case FetchNoHost:
			c.errf("bad address '%s'", host)
		case FetchNotFound, FetchHTTPStatus:
			if status == "" {
				status = "550 Failed to open file."
			}
			c.errf("unexpected server response to RETR: %s", status)
		default:
			c.errf("can't connect to remote host (%s): Connection timed out", s.hostAddr(c.ctx, host))
		}
		return 1
	}
	if err := s.storeDownload(local, body, u); err != nil {
		c.errf("can't open '%s': %s", local, err)
		return 1
	}
	return 0
}

var netApplets = map[string]cmdFunc{
	"wget": cmdWget, "curl": cmdCurl, "tftp": cmdTftp, "ftpget": cmdFtpget,
}
