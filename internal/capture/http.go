package capture

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
)

// userAgent is what BusyBox wget sends; most droppers are fetched by it.
const userAgent = "Wget"

func (f *Fetcher) fetchHTTP(ctx context.Context, u *url.URL) (*Result, error) {
	var peer netip.AddrPort
	tr := &http.Transport{
		Proxy: nil, // never through an environment proxy: the policy must see the real peer
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			p, _ := strconv.Atoi(port)
			c, ap, err := f.dial(ctx, "tcp", host, uint16(p))
			if err == nil {
				peer = ap
			}
			return c, err
		},
		// Droppers are served by whatever the attacker runs; the content
		// is what we want, not the certificate.
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return withKind(KindProtocol, fmt.Errorf("more than %d redirects", maxRedirects))
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return withKind(KindRefused, fmt.Errorf("%w: redirect to scheme %q", errRefused, req.URL.Scheme))
			}
			// Checked here for a clear error; the dialer checks again.
			if _, err := f.resolve(req.Context(), req.URL.Hostname()); err != nil {
				return err
			}
			req.Header.Set("User-Agent", userAgent)
			return nil
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, withKind(KindBadURL, err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	res := &Result{URL: u.String(), FinalURL: resp.Request.URL.String(), Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Addr: peer}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, withKind(KindHTTPStatus, fmt.Errorf("status %s", resp.Status))
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return res, withKind(KindTooLarge, fmt.Errorf("content-length %d over %d", resp.ContentLength, f.cfg.MaxBytes))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return res, err
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return res, withKind(KindTooLarge, fmt.Errorf("body over %d bytes", f.cfg.MaxBytes))
	}
	res.Body = body
	return res, nil
}
