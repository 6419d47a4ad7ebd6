package http

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime"
	nethttp "net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
	"github.com/kansoku/kansoku/internal/shell"
	"github.com/kansoku/kansoku/internal/webprofile"
)

// request is one request as the sensor handles it.
type request struct {
	req        *nethttp.Request
	head       []byte      // the request head exactly as sent
	headers    [][2]string // its header lines
	body       []byte
	start      time.Time
	refused    string // why the request was refused (limits, ambiguous framing)
	matches    []intel.ExploitMatch
	injections []Injection
	downloads  []shell.Download
	extra      []string // headers of this answer only (WWW-Authenticate)
}

// answer decides the device's answer: login forms and authentication
// first, then the profile's routes. It also matches the exploit
// signatures and extracts the injected commands.
func (c *conn) answer(ctx context.Context, r *request) *webprofile.Answer {
	site := c.h.site
	req := r.req
	r.matches = c.h.set.MatchHTTP(req, r.body)
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	r.injections = Extract(Request{Target: req.RequestURI, Headers: r.headers, Body: r.body, Form: ct == "application/x-www-form-urlencoded"})
	r.downloads = c.downloads(r)

	authorized := c.authorize(ctx, r)
	path := req.URL.Path
	if req.Method == nethttp.MethodPost && site.FormPath(path) {
		f := site.Profile.Form
		vals, _ := url.ParseQuery(string(r.body))
		if vals.Has(f.User) || vals.Has(f.Password) {
			if c.login(ctx, vals.Get(f.User), vals.Get(f.Password), "http-form") {
				return site.FormSuccess
			}
			return site.FormFailure
		}
	}
	a := site.Find(req.Method, path, req.URL.RawQuery)
	if a.Auth && !authorized {
		r.extra = append(r.extra, c.challenge())
		return site.Unauthorized
	}
	return a
}

// downloads are the URLs to fetch: those the shell's parser found in the
// injected commands, then those the signature set pulled out (it also
// reads JNDI lookups and malformed commands the parser cannot).
func (c *conn) downloads(r *request) []shell.Download {
	var out []shell.Download
	seen := map[string]bool{}
	add := func(d shell.Download) {
		if !seen[d.URL] && len(out) < max(c.h.cfg.MaxFetches, 1)*2 {
			seen[d.URL] = true
			out = append(out, d)
		}
	}
	for _, in := range r.injections {
		for _, d := range in.Downloads {
			add(d)
		}
	}
	for _, m := range r.matches {
		for _, u := range m.DownloadURLs {
			if strings.Contains(u, `\`) || strings.HasPrefix(u, "ldap") || strings.HasPrefix(u, "rmi") {
				continue // escaped for display, or a JNDI lookup: not a download
			}
			tool := "wget"
			switch {
			case strings.HasPrefix(u, "tftp://"):
				tool = "tftp"
			case strings.HasPrefix(u, "ftp://"):
				tool = "ftpget"
			}
			add(shell.Download{Tool: tool, URL: u})
		}
	}
	return out
}

// authorize checks an Authorization header and records the attempt as a
// login event: Basic carries the password; for Digest the password is
// recovered when one of the credential list's passwords for the user
// gives the client's response.
func (c *conn) authorize(ctx context.Context, r *request) bool {
	h := r.req.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return false
		}
		user, pw, _ := strings.Cut(string(raw), ":")
		return c.login(ctx, user, pw, "http-basic")
	case "digest":
		p := digestParams(cred)
		pw, _ := c.digestPassword(r.req.Method, p)
		return c.login(ctx, p["username"], pw, "http-digest")
	}
	return false
}

func (c *conn) login(ctx context.Context, user, pw, method string) bool {
	return c.ensureConv().Login(ctx, user, pw, method)
}

func (c *conn) ensureConv() *iot.Conv {
	if c.conv == nil {
		c.conv = c.h.base.NewConv(c.s, io.Discard)
	}
	return c.conv
}

// challenge is the WWW-Authenticate header of the profile's scheme.
func (c *conn) challenge() string {
	realm := strings.ReplaceAll(c.h.site.Realm, `"`, "")
	var n [16]byte
	for i := range n {
		n[i] = byte(c.rnd.Uint32())
	}
	nonce := hex.EncodeToString(n[:])
	a := c.h.site.Profile.Auth
	switch {
	case a.Challenge != "":
		return "WWW-Authenticate: " + strings.NewReplacer("{realm}", realm, "{nonce}", nonce).Replace(a.Challenge)
	case a.Scheme == "digest":
		return `WWW-Authenticate: Digest realm="` + realm + `", nonce="` + nonce + `", qop="auth"`
	}
	return `WWW-Authenticate: Basic realm="` + realm + `"`
}

// digestParams parses the name=value list of a Digest Authorization.
func digestParams(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 && len(out) < 32 {
		s = strings.TrimLeft(s, " ,\t")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				v, s = rest[1:], ""
			} else {
				v, s = rest[1:1+end], rest[2+end:]
			}
		} else {
			v, s, _ = strings.Cut(rest, ",")
		}
		out[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return out
}

// digestPassword finds which password of the credential list for the
// user gives the client's digest response (RFC 2617, MD5).
func (c *conn) digestPassword(method string, p map[string]string) (string, bool) {
	user := p["username"]
	if user == "" || p["response"] == "" {
		return "", false
	}
	ha2 := md5hex(method + ":" + p["uri"])
	for _, cred := range c.h.creds {
		if cred.User != user || cred.Any {
			continue
		}
		ha1 := md5hex(user + ":" + p["realm"] + ":" + cred.Password)
		var want string
		if p["qop"] != "" {
			want = md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":" + p["qop"] + ":" + ha2)
		} else {
			want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
		}
		if want == strings.ToLower(p["response"]) {
			return cred.Password, true
		}
	}
	return "", false
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// record emits http.request, and http.exploit.unknown for a request that
// injects commands without matching a signature.
func (c *conn) record(ctx context.Context, r *request, a *webprofile.Answer) {
	e := c.s.Event("http.request")
	c.requestFields(e, r)
	e.Set("status", a.Status)
	if r.refused != "" {
		e.Set("refused", r.refused)
	}
	if len(r.matches) > 0 {
		sigs := make([]map[string]any, 0, len(r.matches))
		var ids, cves []string
		for _, m := range r.matches {
			s := map[string]any{"id": m.ID, "name": m.Name, "severity": m.Severity, "target": m.Target, "evidence": m.Evidence}
			if len(m.CVEs) > 0 {
				s["cves"] = m.CVEs
			}
			if m.Disclosed != "" {
				s["disclosed"] = m.Disclosed
			}
			sigs = append(sigs, s)
			ids = append(ids, m.ID)
			for _, cv := range m.CVEs {
				if !slices.Contains(cves, cv) {
					cves = append(cves, cv)
				}
			}
		}
		e.Set("signatures", sigs).Set("signature_ids", ids)
		if len(cves) > 0 {
			e.Set("cves", cves)
		}
	}
	if len(r.injections) > 0 {
		e.Set("injections", injectionList(r.injections))
	}
	if len(r.downloads) > 0 {
		e.Set("downloads", r.downloads)
	}
	c.s.Emit(ctx, e)
	if len(r.matches) == 0 && len(r.injections) > 0 {
		u := c.s.Event("http.exploit.unknown")
		u.Set("method", event.EscapeInvalid(r.req.Method))
		u.SetText("uri", r.req.RequestURI)
		u.Set("field", event.EscapeInvalid(r.injections[0].Field))
		u.SetText("command", r.injections[0].Command)
		u.Set("injections", injectionList(r.injections))
		if len(r.downloads) > 0 {
			u.Set("downloads", r.downloads)
		}
		c.s.Emit(ctx, u)
	}
}

func injectionList(ins []Injection) []map[string]any {
	out := make([]map[string]any, 0, len(ins))
	for _, in := range ins {
		m := map[string]any{"field": event.EscapeInvalid(in.Field), "command": event.EscapeInvalid(bounded(in.Command, 4096))}
		if len(in.Downloads) > 0 {
			m["downloads"] = in.Downloads
		}
		out = append(out, m)
	}
	return out
}

func bounded(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// requestFields writes what was received: the request line's parts, the
// head exactly as sent, the headers in order, the body (bounded, exact)
// and the TLS client hello.
func (c *conn) requestFields(e *event.Event, r *request) {
	req := r.req
	e.Set("profile", c.h.site.Profile.Name)
	e.Set("method", event.EscapeInvalid(req.Method))
	e.SetText("uri", req.RequestURI)
	e.SetText("path", req.URL.Path)
	if req.URL.RawQuery != "" {
		e.SetText("query", req.URL.RawQuery)
	}
	e.Set("version", req.Proto)
	if req.Host != "" {
		e.SetText("host", req.Host)
	}
	if ua := req.UserAgent(); ua != "" {
		e.SetText("user_agent", ua)
	}
	e.SetText("head", string(r.head))
	hs := make([][2]string, len(r.headers))
	for i, h := range r.headers {
		hs[i] = [2]string{event.EscapeInvalid(h[0]), event.EscapeInvalid(h[1])}
	}
	e.Set("headers", hs)
	if len(r.body) > 0 {
		b := r.body
		if len(b) > c.h.cfg.RecordBodyBytes {
			b = b[:c.h.cfg.RecordBodyBytes]
			e.Set("body_truncated", true)
		}
		e.SetText("body", string(b))
		e.Set("body_size", len(r.body))
	}
	c.tlsFields(e)
}

func (c *conn) tlsFields(e *event.Event) {
	if c.tls != nil {
		e.Set("tls", true)
		c.tls.Fields(e)
	}
}

// recordRaw records a request net/http refused to parse: its raw bytes.
func (c *conn) recordRaw(ctx context.Context, rerr error) {
	e := c.s.Event("http.request")
	e.Set("profile", c.h.site.Profile.Name)
	raw := c.rec.buf
	if len(raw) > c.h.cfg.MaxHeaderBytes {
		raw = raw[:c.h.cfg.MaxHeaderBytes]
	}
	e.SetText("head", string(raw))
	e.Set("refused", "malformed: "+rerr.Error())
	c.tlsFields(e)
	c.s.Emit(ctx, e)
}

// fetch hands each download to the fetcher through the Telnet honeypot's
// download path (download.ok/failed, sample.captured, analysis queue),
// then what the scripts it got name in turn, every architecture of them,
// up to max_fetches for the request.
func (c *conn) fetch(ctx context.Context, r *request) {
	if !c.h.cfg.Fetch || c.h.cfg.MaxFetches == 0 {
		return
	}
	conv := c.ensureConv()
	queue := slices.Clone(r.downloads)
	seen := map[string]bool{}
	left := c.h.cfg.MaxFetches
	for len(queue) > 0 && left > 0 && ctx.Err() == nil {
		d := queue[0]
		queue = queue[1:]
		if seen[d.URL] {
			continue
		}
		seen[d.URL] = true
		left--
		body, err := conv.Download(ctx, d.Tool, d.URL)
		if err != nil || !isScript(body) {
			continue
		}
		queue = append(queue, shell.Downloads(string(body))...)
	}
}

// isScript reports whether a download is a shell script to read for the
// downloads it makes (a dropper such as bins.sh), not a binary.
func isScript(b []byte) bool {
	if len(b) == 0 || len(b) > 1<<20 || strings.HasPrefix(string(b), "\x7fELF") {
		return false
	}
	n := min(len(b), 512)
	for _, x := range b[:n] {
		if x < 0x09 || (x > 0x0d && x < 0x20) {
			return false
		}
	}
	return true
}
