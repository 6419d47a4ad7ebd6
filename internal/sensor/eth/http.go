package eth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Geth's HTTP server is Go's net/http with go-ethereum's handler stack
// (gzip, virtual hosts, CORS, the JSON-RPC handler). The sensor reads
// requests with net/http's own parser and writes responses with the exact
// header order, status lines and error bodies net/http produces, so that a
// client sees the same bytes (Date aside) as from a real node.

const (
	bodyLimit = 5 * 1024 * 1024 // Geth's --http body limit
	// net/http writes a response of more than this many bytes without a
	// known length in chunks.
	chunkingSize = 2048
)

// response is one HTTP response as net/http would serialise it.
type response struct {
	status int
	header http.Header // what the handler set
	body   []byte
	close  bool
	gz     bool // body must be gzip-compressed (Geth's gzip handler)
	// bodyRead is set once the handler read the request body.
	bodyRead bool
}

func newResponse(status int) *response { return &response{status: status, header: http.Header{}} }

// httpError is net/http's http.Error.
func httpError(msg string, status int) *response {
	r := newResponse(status)
	r.header.Set("Content-Type", "text/plain; charset=utf-8")
	r.header.Set("X-Content-Type-Options", "nosniff")
	r.body = []byte(msg + "\n")
	return r
}

var gzPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// write serialises r in net/http's order: status line, the handler's
// headers sorted by name, then Date, Content-Length, Connection.
func (r *response) write(w *bufio.Writer, req *http.Request, now time.Time) error {
	body := r.body
	chunked := false
	if r.gz {
		var buf bytes.Buffer
		gz := gzPool.Get().(*gzip.Writer)
		gz.Reset(&buf)
		_, _ = gz.Write(body)
		_ = gz.Close()
		gzPool.Put(gz)
		body = buf.Bytes()
		r.header.Del("Content-Length")
		r.header.Set("Content-Encoding", "gzip")
		chunked = len(body) > chunkingSize && req.ProtoAtLeast(1, 1)
	}
	if req.ProtoAtLeast(1, 1) {
		w.WriteString("HTTP/1.1 ")
	} else {
		w.WriteString("HTTP/1.0 ")
	}
	w.WriteString(strconv.Itoa(r.status))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(r.status))
	w.WriteString("\r\n")
	keys := make([]string, 0, len(r.header))
	for k := range r.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.header[k] {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	w.WriteString("Date: ")
	w.WriteString(now.UTC().Format(http.TimeFormat))
	w.WriteString("\r\n")
	if r.header.Get("Content-Length") == "" && !chunked && bodyAllowed(r.status) {
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	if r.close && req.ProtoAtLeast(1, 1) {
		w.WriteString("Connection: close\r\n")
	}
	if chunked {
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	w.WriteString("\r\n")
	if req.Method != http.MethodHead {
		if chunked {
			for len(body) > 0 {
				n := min(len(body), chunkingSize)
				w.WriteString(strconv.FormatInt(int64(n), 16))
				w.WriteString("\r\n")
				w.Write(body[:n])
				w.WriteString("\r\n")
				body = body[n:]
			}
			w.WriteString("0\r\n\r\n")
		} else {
			w.Write(body)
		}
	}
	return w.Flush()
}

func bodyAllowed(status int) bool {
	return !(status >= 100 && status <= 199) && status != http.StatusNoContent && status != http.StatusNotModified
}

// badRequest is what net/http answers to a request it cannot parse, before
// any handler runs; it then closes the connection.
func badRequest(w io.Writer, err error) {
	const hdr = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	msg := "400 Bad Request"
	var tooLong interface{ Timeout() bool }
	switch {
	case errors.As(err, &tooLong):
		return // a read timeout: net/http closes silently
	case errors.Is(err, bufio.ErrBufferFull), strings.Contains(err.Error(), "header too long"):
		msg = "431 Request Header Fields Too Large"
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		_, _ = io.WriteString(w, "HTTP/1.1 501 Not Implemented"+hdr+"Unsupported transfer encoding")
		return
	}
	_, _ = io.WriteString(w, "HTTP/1.1 "+msg+hdr+msg)
}

// isWebsocket is go-ethereum's test for an upgrade request.
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// acceptsJSON is go-ethereum's content type check.
func acceptsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("content-type"))
	return err == nil && (mt == "application/json" || mt == "application/json-rpc" || mt == "application/jsonrequest")
}

// vhostAllowed is go-ethereum's virtual host check (--http.vhosts).
func (s *Sensor) vhostAllowed(r *http.Request) bool {
	if r.Host == "" {
		return true
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	host = strings.ToLower(host)
	if net.ParseIP(host) != nil {
		return true
	}
	return s.vhosts["*"] || s.vhosts[host]
}

// cors adds the headers of the rs/cors handler Geth uses when
// --http.corsdomain is set; it reports whether the request was a preflight
// it answered completely.
func (s *Sensor) cors(r *http.Request, resp *response) bool {
	if len(s.cfg.CORSDomains) == 0 {
		return false
	}
	origin := r.Header.Get("Origin")
	allowed := origin != "" && (s.corsAll || s.corsOrigins[strings.ToLower(origin)])
	acao := origin
	if s.corsAll {
		acao = "*"
	}
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		resp.status = http.StatusNoContent
		resp.header.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		reqMethod := strings.ToUpper(r.Header.Get("Access-Control-Request-Method"))
		if allowed && (reqMethod == http.MethodPost || reqMethod == http.MethodGet) {
			resp.header.Set("Access-Control-Allow-Origin", acao)
			resp.header.Set("Access-Control-Allow-Methods", reqMethod)
			if h := r.Header.Get("Access-Control-Request-Headers"); h != "" {
				resp.header.Set("Access-Control-Allow-Headers", h)
			}
			resp.header.Set("Access-Control-Max-Age", "600")
		}
		return true
	}
	resp.header.Add("Vary", "Origin")
	if allowed {
		resp.header.Set("Access-Control-Allow-Origin", acao)
	}
	return false
}
