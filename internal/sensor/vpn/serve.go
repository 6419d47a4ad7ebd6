package vpn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
)

// Bounds on one request beyond the session's limits.
const (
	maxHead     = 64 << 10 // request line and headers (Citrix Bleed sends a 24 KiB Host)
	maxRequests = 100      // per connection
	maxHeaders  = 32       // headers kept in the event
)

// budget lets at most n more bytes through, so a request head cannot
// grow without end inside the session's byte cap.
type budget struct {
	r io.Reader
	n int64
}

func (b *budget) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

var errHeadTooLarge = errors.New("vpn: request too large")

// HandleConn serves HTTP(S) requests on one connection until the client
// closes it, a request asks to close, or a limit is reached.
func (s *Sensor) HandleConn(ctx context.Context, sess *sensor.Session) error {
	conn := net.Conn(sess.Conn)
	var hello *tlsserver.Hello
	if s.tls != nil {
		tc, h := tlsserver.Server(sess.Conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			e := sess.Event("vpn.tls_failed")
			h.Fields(e)
			e.Set("profile", s.profile.Name).Set("error", bound(err.Error(), 200))
			sess.Emit(ctx, e)
			return nil
		}
		conn, hello = tc, h
	}
	lim := &budget{r: conn}
	br := bufio.NewReaderSize(lim, 4096)
	bw := bufio.NewWriterSize(conn, 4096)
	for range maxRequests {
		lim.n = maxHead + int64(s.cfg.MaxBody)
		req, err := http.ReadRequest(br)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) && br.Buffered() == 0 {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, sensor.ErrByteLimit) {
				return err
			}
			s.malformed(ctx, sess, hello, err)
			_, _ = io.WriteString(bw, s.profile.BadRequest)
			return bw.Flush()
		}
		keep, err := s.serve(ctx, sess, hello, req, bw)
		if err != nil {
			return err
		}
		if err := bw.Flush(); err != nil || !keep {
			return err
		}
	}
	return nil
}

// serve answers one request and records it; keep tells whether the
// connection stays open.
func (s *Sensor) serve(ctx context.Context, sess *sensor.Session, hello *tlsserver.Hello, req *http.Request, w *bufio.Writer) (bool, error) {
	body, err := io.ReadAll(io.LimitReader(req.Body, int64(s.cfg.MaxBody)))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	// What is left of an oversized body is not read: the connection closes.
	rest, _ := io.Copy(io.Discard, io.LimitReader(req.Body, 1))
	_ = req.Body.Close()

	hasHost := req.Host != ""
	rt := s.profile.route(req.Method, req.URL.Path, hasHost)
	matches := s.sigs.MatchHTTP(req, body)

	e := sess.Event("http.request")
	e.Set("profile", s.profile.Name).Set("product", s.profile.Product)
	e.SetText("method", req.Method).SetText("uri", req.RequestURI).SetText("path", req.URL.Path).SetText("query", req.URL.RawQuery)
	e.Set("version", req.Proto).SetText("host", bound(req.Host, 512)).SetText("user_agent", bound(req.UserAgent(), 512))
	e.Set("headers", headerList(req.Header))
	e.SetText("body", string(body)).Set("body_size", len(body)).Set("body_truncated", rest > 0)
	e.Set("status", rt.Status)
	if len(matches) > 0 {
		setSignatures(e, matches)
	}
	hello.Fields(e)
	sess.Emit(ctx, e)

	if rt.Login != nil {
		s.login(ctx, sess, req, body, rt)
	}
	keep := rest == 0 && !rt.Close && !req.Close && (req.ProtoAtLeast(1, 1) || strings.EqualFold(req.Header.Get("Connection"), "keep-alive"))
	return keep, s.write(w, req, rt, keep)
}

// login records the credentials of a login form post.
func (s *Sensor) login(ctx context.Context, sess *sensor.Session, req *http.Request, body []byte, rt *Route) {
	form, _ := url.ParseQuery(req.URL.RawQuery)
	if strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || req.Method == http.MethodPost {
		if f, err := url.ParseQuery(string(body)); err == nil || len(f) > 0 {
			for k, v := range f {
				form[k] = append(v, form[k]...)
			}
		}
	}
	user, pass := form.Get(rt.Login.User), form.Get(rt.Login.Password)
	if user == "" && pass == "" {
		return
	}
	e := sess.Event("login.failed")
	e.SetText("username", user).SetText("password", pass).Set("method", "password").Set("service", "vpn")
	e.Set("profile", s.profile.Name).Set("product", s.profile.Product).SetText("path", req.URL.Path)
	if rt.Login.Realm != "" {
		if realm := form.Get(rt.Login.Realm); realm != "" {
			e.SetText("realm", realm)
		}
	}
	e.SetText("user_agent", bound(req.UserAgent(), 512))
	sess.Emit(ctx, e)
}

// malformed records a request that does not parse.
func (s *Sensor) malformed(ctx context.Context, sess *sensor.Session, hello *tlsserver.Hello, err error) {
	e := sess.Event("http.request")
	e.Set("profile", s.profile.Name).Set("product", s.profile.Product).Set("refused", "malformed: "+bound(err.Error(), 200)).Set("status", 400)
	hello.Fields(e)
	sess.Emit(ctx, e)
}

// write sends the route's answer: status line, the route's headers in
// order, Content-Length, then the profile's headers.
func (s *Sensor) write(w *bufio.Writer, req *http.Request, rt *Route, keep bool) error {
	proto := "HTTP/1.1"
	if s.profile.EchoVersion && !req.ProtoAtLeast(1, 1) {
		proto = "HTTP/1.0"
	}
	w.WriteString(proto + " " + strconv.Itoa(rt.Status) + " " + rt.Reason + "\r\n")
	date := s.now().UTC().Format(http.TimeFormat)
	body := rt.body
	if b, ok := s.bodies[rt]; ok {
		body = b
	}
	hasLength := false
	put := func(h string) {
		h = fill(strings.ReplaceAll(h, "{date}", date), globalRand{})
		if strings.HasPrefix(strings.ToLower(h), "content-length:") {
			hasLength = true
			h = "Content-Length: " + strconv.Itoa(len(body))
		}
		w.WriteString(h + "\r\n")
	}
	for _, h := range rt.Headers {
		put(h)
	}
	if !hasLength {
		put("Content-Length: ")
	}
	for _, h := range s.profile.Headers {
		put(h)
	}
	if !keep && req.ProtoAtLeast(1, 1) {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	if req.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// globalRand draws per answer (session cookies).
type globalRand struct{}

func (globalRand) IntN(n int) int { return rand.IntN(n) }

func headerList(h http.Header) [][2]string {
	var out [][2]string
	for k, vs := range h {
		for _, v := range vs {
			if len(out) == maxHeaders {
				return out
			}
			out = append(out, [2]string{event.EscapeInvalid(bound(k, 128)), event.EscapeInvalid(bound(v, 512))})
		}
	}
	return out
}

// setSignatures writes matched exploit signatures the way the HTTP IoT
// honeypot does: the list, their ids, and every CVE once.
func setSignatures(e *event.Event, ms []intel.ExploitMatch) {
	var ids, cves []string
	sigs := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.ID)
		for _, c := range m.CVEs {
			if !slices.Contains(cves, c) {
				cves = append(cves, c)
			}
		}
		sigs = append(sigs, map[string]any{"id": m.ID, "name": m.Name, "cves": m.CVEs, "disclosed": m.Disclosed,
			"severity": m.Severity, "target": m.Target, "evidence": m.Evidence})
	}
	e.Set("signatures", sigs).Set("signature_ids", ids).Set("cves", cves)
}

// bound cuts s to n bytes (attacker text kept exact up to there).
func bound(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
