// Package http is the scanner's HTTP and HTTPS grab module: status, headers,
// title, body SHA-256, the favicon hash as Shodan computes it, and for HTTPS
// the server certificate. Redirects are followed only to the same address,
// so a redirect can never lead the scanner off its target list.
package http

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	stdhttp "net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
)

// Limits on what one server can make the module read.
const (
	maxBody      = 256 << 10
	maxFavicon   = 64 << 10
	maxRedirects = 3
	maxHeaderLen = 1024
	maxHeaders   = 64
	factsBody    = 4 << 10
)

// Result is what the grab saw.
type Result struct {
	URL          string            `json:"url"`
	StatusCode   int               `json:"status_code"`
	Status       string            `json:"status_line"`
	Headers      map[string]string `json:"headers"`
	Title        string            `json:"title,omitempty"`
	BodyLength   int               `json:"body_length"`
	BodySHA256   string            `json:"body_sha256"`
	Truncated    bool              `json:"body_truncated,omitempty"`
	PasswordForm bool              `json:"password_form,omitempty"`
	FaviconHash  *int32            `json:"favicon_mmh3,omitempty"`
	FaviconURL   string            `json:"favicon_url,omitempty"`
	Redirect     string            `json:"redirect_refused,omitempty"`
	TLS          *TLSInfo          `json:"tls,omitempty"`

	body []byte // kept for clustering, not written out
}

// TLSInfo describes the server certificate.
type TLSInfo struct {
	Version     string    `json:"version"`
	CipherSuite string    `json:"cipher_suite"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	SANs        []string  `json:"sans,omitempty"`
	SHA256      string    `json:"sha256"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	SelfSigned  bool      `json:"self_signed"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts {
	b := r.body
	if len(b) > factsBody {
		b = b[:factsBody]
	}
	return scan.Facts{
		Service: "http", Title: r.Title, Headers: r.Headers, Body: string(b),
		FaviconHash: r.FaviconHash, StatusCode: r.StatusCode, PasswordForm: r.PasswordForm,
		Banner: r.Headers["server"],
	}
}

// WebPage hands the page to the clustering step.
func (r *Result) WebPage() ([]byte, string, *int32) { return r.body, r.Title, r.FaviconHash }

// Module grabs HTTP (TLS false) or HTTPS (TLS true).
type Module struct{ TLS bool }

var _ scan.Module = Module{}

func init() {
	scan.RegisterModule(Module{})
	scan.RegisterModule(Module{TLS: true})
}

func (m Module) Name() string {
	if m.TLS {
		return "https"
	}
	return "http"
}
func (m Module) Protocol() string { return m.Name() }
func (Module) Transport() string  { return "tcp" }
func (m Module) DefaultPort() uint16 {
	if m.TLS {
		return 443
	}
	return 80
}

// Scan fetches / (following same-address redirects) and the favicon over
// one kept-alive connection where the server allows it.
func (m Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	base := &url.URL{Scheme: m.Name(), Host: netip.AddrPortFrom(t.IP, t.Port).String(), Path: "/"}
	c := &client{t: t, tls: m.TLS}
	defer c.close()
	res := &Result{}
	u := base
	var resp *stdhttp.Response
	var body []byte
	for hop := 0; ; hop++ {
		var err error
		resp, body, err = c.get(ctx, u, maxBody)
		if err != nil {
			if hop == 0 {
				return scan.StatusFromError(err), nil, err
			}
			return scan.StatusFromError(err), nil, fmt.Errorf("http: redirect to %s: %w", u, err)
		}
		if hop == 0 && c.state != nil {
			res.TLS = tlsInfo(c.state)
		}
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" || hop >= maxRedirects {
			break
		}
		next, err := u.Parse(loc)
		if err != nil || !sameHost(next, t) || (next.Scheme != "http" && next.Scheme != "https") {
			// Never follow a redirect off the target: it could lead
			// anywhere, including outside the scan's list.
			res.Redirect = strings.ToValidUTF8(loc, "\uFFFD")
			break
		}
		u = next
	}
	res.URL = u.String()
	res.StatusCode = resp.StatusCode
	res.Status = resp.Status
	res.Headers = headers(resp.Header)
	res.Truncated = len(body) > maxBody
	if res.Truncated {
		body = body[:maxBody]
	}
	res.body = body
	res.BodyLength = len(body)
	sum := sha256.Sum256(body)
	res.BodySHA256 = hex.EncodeToString(sum[:])
	pi := ParsePage(body)
	res.Title, res.PasswordForm = pi.Title, pi.PasswordForm

	iconURL := u.ResolveReference(&url.URL{Path: "/favicon.ico"})
	if pi.IconHref != "" {
		if iu, err := u.Parse(pi.IconHref); err == nil && sameHost(iu, t) && (iu.Scheme == "http" || iu.Scheme == "https") {
			iconURL = iu
		}
	}
	if r, icon, err := c.get(ctx, iconURL, maxFavicon); err == nil && r.StatusCode == 200 && len(icon) > 0 && len(icon) <= maxFavicon && !looksHTML(icon) {
		h := FaviconHash(icon)
		res.FaviconHash = &h
		res.FaviconURL = iconURL.String()
	}
	return scan.StatusSuccess, res, nil
}

// client is a minimal HTTP/1.1 client bound to one target: it dials only
// through the target's Dialer and keeps at most one connection, which
// costs far less per host than a net/http Transport.
type client struct {
	t     scan.Target
	tls   bool
	conn  net.Conn
	br    *bufio.Reader
	key   string // scheme://host:port of conn
	state *tls.ConnectionState
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *client) connect(ctx context.Context, u *url.URL) error {
	key := u.Scheme + "://" + u.Host
	if c.conn != nil && c.key == key {
		return nil
	}
	c.close()
	ap, err := netip.ParseAddrPort(u.Host)
	if err != nil {
		port := uint16(80)
		if u.Scheme == "https" {
			port = 443
		}
		a, aerr := netip.ParseAddr(strings.Trim(u.Host, "[]"))
		if aerr != nil {
			return fmt.Errorf("http: host %q: %w", u.Host, aerr)
		}
		ap = netip.AddrPortFrom(a, port)
	}
	conn, err := c.t.DialerOrDefault().DialContext(ctx, "tcp", ap.String())
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if u.Scheme == "https" {
		// Certificates are recorded, not trusted: scanning is about what
		// is exposed, valid or not.
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // observation only
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		if c.state == nil {
			st := tc.ConnectionState()
			c.state = &st
		}
		conn = tc
	}
	c.conn, c.key = conn, key
	c.br = bufio.NewReaderSize(conn, 4096)
	return nil
}

func (c *client) get(ctx context.Context, u *url.URL, limit int64) (*stdhttp.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil && c.key == u.Scheme+"://"+u.Host
		if err := c.connect(ctx, u); err != nil {
			return nil, nil, err
		}
		resp, body, err := c.roundTrip(u, limit)
		if err == nil {
			return resp, body, nil
		}
		c.close()
		// A kept-alive connection the server closed meanwhile is retried
		// once on a fresh one.
		if !reused || attempt > 0 {
			return nil, nil, err
		}
	}
}

func (c *client) roundTrip(u *url.URL, limit int64) (*stdhttp.Response, []byte, error) {
	path := u.RequestURI()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: kansoku-scan/1 (observation only)\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
	if _, err := io.WriteString(c.conn, req); err != nil {
		return nil, nil, err
	}
	r, err := stdhttp.ReadResponse(c.br, &stdhttp.Request{Method: stdhttp.MethodGet, URL: u})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "malformed") {
			return nil, nil, scan.ProtocolError("http: %v", err)
		}
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body.Close()
	if err != nil && len(body) == 0 {
		return nil, nil, fmt.Errorf("http: read body: %w", err)
	}
	if r.Close || int64(len(body)) > limit || err != nil {
		c.close() // the rest of the body or the connection is not reusable
	}
	return r, body, nil
}

func sameHost(u *url.URL, t scan.Target) bool {
	a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	return err == nil && a.Unmap() == t.IP.Unmap()
}

func headers(h stdhttp.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if len(out) >= maxHeaders {
			break
		}
		v := strings.Join(vs, ", ")
		if len(v) > maxHeaderLen {
			v = v[:maxHeaderLen]
		}
		out[strings.ToLower(k)] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return out
}

func looksHTML(b []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 64)])))
	return strings.HasPrefix(s, "<!doctype") || strings.HasPrefix(s, "<html")
}

func tlsInfo(cs *tls.ConnectionState) *TLSInfo {
	ti := &TLSInfo{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) == 0 {
		return ti
	}
	c := cs.PeerCertificates[0]
	ti.Subject = c.Subject.String()
	ti.Issuer = c.Issuer.String()
	ti.SANs = append(ti.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		ti.SANs = append(ti.SANs, ip.String())
	}
	sum := sha256.Sum256(c.Raw)
	ti.SHA256 = hex.EncodeToString(sum[:])
	ti.NotBefore, ti.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
	ti.SelfSigned = c.CheckSignatureFrom(c) == nil || isSelfIssued(c)
	return ti
}

func isSelfIssued(c *x509.Certificate) bool { return c.Subject.String() == c.Issuer.String() }
