package http

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
	"github.com/kansoku/kansoku/internal/webprofile"
)

// errHeadTooLarge ends a request head longer than max_header_bytes.
var errHeadTooLarge = errors.New("http: request head too large")

// recorder sits under the connection's bufio.Reader: it keeps the bytes of
// the request head being read, so the event has the head exactly as sent,
// and refuses to read past the head budget.
type recorder struct {
	r      io.Reader
	on     bool
	buf    []byte
	budget int
}

func (rc *recorder) Read(p []byte) (int, error) {
	if rc.on {
		left := rc.budget - len(rc.buf)
		if left <= 0 {
			return 0, errHeadTooLarge
		}
		if len(p) > left {
			p = p[:left]
		}
	}
	n, err := rc.r.Read(p)
	if rc.on {
		rc.buf = append(rc.buf, p[:n]...)
	}
	return n, err
}

// conn is one client connection.
type conn struct {
	h    *Sensor
	s    *sensor.Session
	c    net.Conn
	rec  *recorder
	br   *bufio.Reader
	bw   *bufio.Writer
	rnd  *rand.Rand
	conv *iot.Conv        // made on the first login or download
	tls  *tlsserver.Hello // nil without TLS
	n    int              // requests served
}

// HandleConn serves HTTP/1.x requests on one connection until the client
// closes it, a limit is reached or a request ends it.
func (h *Sensor) HandleConn(ctx context.Context, s *sensor.Session) error {
	c := &conn{h: h, s: s, c: s.Conn, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(s.Remote.Port())))}
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	if h.tls != nil {
		if err := c.handshake(ctx); err != nil {
			return nil // scanners probe and drop; the runner records the session
		}
	}
	defer func() {
		if c.conv != nil {
			c.conv.Close(ctx)
		}
	}()
	c.rec = &recorder{r: c.c, budget: h.cfg.MaxHeaderBytes}
	c.br = bufio.NewReaderSize(c.rec, 4096)
	c.bw = bufio.NewWriterSize(c.c, 4096)
	for c.n < h.cfg.MaxRequests && ctx.Err() == nil {
		keep, err := c.serveOne(ctx)
		if ferr := c.bw.Flush(); err == nil {
			err = ferr
		}
		if err != nil || !keep {
			return ignoreEOF(err)
		}
	}
	return nil
}

func (c *conn) handshake(ctx context.Context) error {
	tc, hello := tlsserver.Server(c.s.Conn, c.h.tls)
	_ = c.s.Conn.SetDeadline(time.Now().Add(c.h.cfg.HeaderTimeout))
	err := tc.HandshakeContext(ctx)
	_ = c.s.Conn.SetDeadline(time.Time{})
	c.tls = hello
	if err != nil {
		e := c.s.Event("http.tls.failed")
		hello.Fields(e)
		e.Set("error", err.Error())
		c.s.Emit(ctx, e)
		return err
	}
	c.c = tc
	return nil
}

// serveOne reads and answers one request; keep reports whether the
// connection stays open for another.
func (c *conn) serveOne(ctx context.Context) (keep bool, err error) {
	cfg := &c.h.cfg
	// Wait for the next request, then give its head header_timeout.
	wait := cfg.KeepAlive
	if c.n == 0 {
		wait = cfg.HeaderTimeout
	}
	_ = c.c.SetReadDeadline(time.Now().Add(wait))
	pending, _ := c.br.Peek(c.br.Buffered())
	c.rec.buf = append(c.rec.buf[:0], pending...)
	c.rec.on = true
	if _, err := c.br.Peek(1); err != nil {
		c.rec.on = false
		return false, err
	}
	_ = c.c.SetReadDeadline(time.Now().Add(cfg.HeaderTimeout))
	req, rerr := nethttp.ReadRequest(c.br)
	c.rec.on = false
	c.n++
	if rerr != nil {
		return false, c.malformed(ctx, rerr)
	}
	head := c.rec.buf[:len(c.rec.buf)-c.br.Buffered()]
	hdrs := headerLines(head)
	r := &request{req: req, head: head, headers: hdrs, start: time.Now()}
	if why := smuggling(req, hdrs); why != "" {
		r.refused = why
		c.record(ctx, r, c.h.site.BadRequest)
		return false, c.write(r, c.h.site.BadRequest, false)
	}
	if req.ContentLength > cfg.MaxBodyBytes {
		r.refused = "body too large"
		c.record(ctx, r, c.h.site.TooLarge)
		return false, c.write(r, c.h.site.TooLarge, false)
	}
	if req.Body != nil && req.Body != nethttp.NoBody {
		_ = c.c.SetReadDeadline(time.Now().Add(cfg.HeaderTimeout + time.Duration(cfg.MaxBodyBytes>>10)*time.Millisecond))
		body, err := io.ReadAll(io.LimitReader(req.Body, cfg.MaxBodyBytes+1))
		r.body = body
		if int64(len(body)) > cfg.MaxBodyBytes {
			r.body = body[:cfg.MaxBodyBytes]
			r.refused = "body too large"
			c.record(ctx, r, c.h.site.TooLarge)
			return false, c.write(r, c.h.site.TooLarge, false)
		}
		if err != nil {
			r.refused = "bad body: " + err.Error()
			c.record(ctx, r, c.h.site.BadRequest)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return false, nil // a client that stalls mid-body gets no answer
			}
			return false, c.write(r, c.h.site.BadRequest, false)
		}
	}
	keep = !req.Close && !c.h.site.Profile.Close && c.n < cfg.MaxRequests
	ans := c.answer(ctx, r)
	c.record(ctx, r, ans)
	if d := c.delay(); d > 0 {
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(d):
		}
	}
	if err := c.write(r, ans, keep); err != nil {
		return false, err
	}
	if len(r.downloads) > 0 {
		if err := c.bw.Flush(); err != nil {
			return false, err
		}
		c.fetch(ctx, r)
	}
	return keep, nil
}

func (c *conn) delay() time.Duration {
	if !c.h.cfg.Timing {
		return 0
	}
	return c.h.site.Delay(c.rnd)
}

// malformed answers a request net/http could not parse the way the
// device does (400, or 431 for a head over the limit) and records it.
func (c *conn) malformed(ctx context.Context, rerr error) error {
	var ne net.Error
	if errors.As(rerr, &ne) && ne.Timeout() || errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) || errors.Is(rerr, sensor.ErrByteLimit) {
		// Slow or cut heads get no answer: the connection closes.
		if len(c.rec.buf) > 0 {
			c.recordRaw(ctx, rerr)
		}
		return nil
	}
	ans := c.h.site.BadRequest
	status := 0
	if errors.Is(rerr, errHeadTooLarge) || len(c.rec.buf) >= c.rec.budget {
		status = nethttp.StatusRequestHeaderFieldsTooLarge
	}
	c.recordRaw(ctx, rerr)
	r := &request{}
	return c.writeStatus(r, ans, false, status)
}

// smuggling returns why a request's framing is ambiguous: both
// Content-Length and Transfer-Encoding, or several differing lengths.
// Such requests are refused and the connection closed, so no second
// request can hide in the first one's body.
func smuggling(req *nethttp.Request, hdrs [][2]string) string {
	var cl, te int
	for _, h := range hdrs {
		if h[0] == "" || strings.ContainsAny(h[0], " \t") {
			// "Content-Length : 4" or a folded line: a proxy in front may
			// read a length here that Go's parser does not.
			return "whitespace in a header name or a folded header line"
		}
		switch strings.ToLower(h[0]) {
		case "content-length":
			cl++
		case "transfer-encoding":
			te++
		}
	}
	switch {
	case cl > 0 && te > 0:
		return "both content-length and transfer-encoding"
	case cl > 1:
		return "several content-length headers"
	case te > 1:
		return "several transfer-encoding headers"
	case te > 0 && !req.ProtoAtLeast(1, 1):
		return "transfer-encoding in HTTP/1.0"
	}
	return ""
}

// headerLines splits a raw head into its header lines, exactly as sent.
func headerLines(head []byte) [][2]string {
	_, rest, _ := bytes.Cut(head, []byte("\n"))
	var out [][2]string
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		k, v, _ := bytes.Cut(line, []byte(":"))
		out = append(out, [2]string{string(k), string(bytes.TrimLeft(v, " \t"))})
	}
	return out
}

// write sends an answer; HEAD requests get the headers only.
func (c *conn) write(r *request, a *webprofile.Answer, keep bool) error {
	return c.writeStatus(r, a, keep, 0)
}

func (c *conn) writeStatus(r *request, a *webprofile.Answer, keep bool, status int) error {
	w := c.bw
	st, reason := a.Status, a.Reason
	if status != 0 {
		st, reason = status, nethttp.StatusText(status)
	}
	prof := c.h.site.Profile
	proto := "HTTP/1.1"
	if r.req != nil && r.req.ProtoMajor == 1 && r.req.ProtoMinor == 0 {
		proto = "HTTP/1.0"
	}
	if prof.Version != "" {
		proto = prof.Version
	}
	w.WriteString(proto + " " + strconv.Itoa(st) + " " + reason + "\r\n")
	if prof.Connection != "" {
		w.WriteString("Connection: " + prof.Connection + "\r\n")
	}
	w.Write(c.h.headers)
	if prof.Date {
		w.WriteString("Date: " + time.Now().UTC().Format(nethttp.TimeFormat) + "\r\n")
	}
	w.Write(a.Header)
	for _, x := range r.extra {
		w.WriteString(x + "\r\n")
	}
	w.WriteString("Content-Length: " + strconv.Itoa(len(a.Body)) + "\r\n")
	switch {
	case prof.Connection != "":
	case !keep:
		w.WriteString("Connection: close\r\n")
	case proto == "HTTP/1.0":
		w.WriteString("Connection: keep-alive\r\n")
	}
	w.WriteString("\r\n")
	if r.req == nil || r.req.Method != nethttp.MethodHead {
		w.Write(a.Body)
	}
	return nil
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}
