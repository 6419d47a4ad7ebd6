// Package http is the scanner's HTTP and HTTPS grab module: status, headers,
// title, body SHA-256, the favicon hash as Shodan computes it, and for HTTPS
// the server certificate. Redirects are followed only to the same address,
// so a redirect can never lead the scanner off its target list.
package http

import (
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

var errOffHost = errors.New("redirect to another host refused")

// Scan fetches / and the favicon.
func (m Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	base := &url.URL{Scheme: m.Name(), Host: netip.AddrPortFrom(t.IP, t.Port).String(), Path: "/"}
	tr := &stdhttp.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return t.DialerOrDefault().DialContext(ctx, network, addr)
		},
		// Certificates are recorded, not trusted: scanning is about what
		// is exposed, valid or not.
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // observation only
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true,
		MaxIdleConnsPerHost:    1,
		ResponseHeaderTimeout:  t.Timeout,
		ForceAttemptHTTP2:      false,
	}
	defer tr.CloseIdleConnections()
	res := &Result{}
	client := &stdhttp.Client{
		Transport: tr,
		CheckRedirect: func(req *stdhttp.Request, via []*stdhttp.Request) error {
			if len(via) >= maxRedirects {
				return stdhttp.ErrUseLastResponse
			}
			if !sameHost(req.URL, t) {
				res.Redirect = req.URL.String()
				return stdhttp.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, body, err := get(ctx, client, base.String(), maxBody)
	if err != nil {
		return scan.StatusFromError(unwrapURL(err)), nil, err
	}
	res.URL = resp.Request.URL.String()
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
	if resp.TLS != nil {
		res.TLS = tlsInfo(resp.TLS)
	}

	iconURL := base.ResolveReference(&url.URL{Path: "/favicon.ico"})
	if pi.IconHref != "" {
		if u, err := resp.Request.URL.Parse(pi.IconHref); err == nil && sameHost(u, t) {
			iconURL = u
		}
	}
	if r, icon, err := get(ctx, client, iconURL.String(), maxFavicon); err == nil && r.StatusCode == 200 && len(icon) > 0 && len(icon) <= maxFavicon && !looksHTML(icon) {
		h := FaviconHash(icon)
		res.FaviconHash = &h
		res.FaviconURL = iconURL.String()
	}
	return scan.StatusSuccess, res, nil
}

func get(ctx context.Context, c *stdhttp.Client, u string, limit int64) (*stdhttp.Response, []byte, error) {
	req, err := stdhttp.NewRequestWithContext(ctx, stdhttp.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("http: request: %w", err)
	}
	req.Header.Set("User-Agent", "kansoku-scan/1 (observation only)")
	req.Header.Set("Accept", "*/*")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil && len(body) == 0 {
		return resp, nil, fmt.Errorf("http: read body: %w", err)
	}
	return resp, body, nil
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if strings.Contains(ue.Err.Error(), "malformed HTTP") {
			return scan.ProtocolError("http: %v", ue.Err)
		}
		return ue.Err
	}
	return err
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
