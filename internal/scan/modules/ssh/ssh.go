// Package ssh is the scanner's SSH grab module: server identification, the
// server's KEXINIT algorithm lists, and the host key type and SHA-256
// fingerprint. The handshake is aborted as soon as the host key is seen, so
// no authentication is ever attempted.
package ssh

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/kansoku/kansoku/internal/scan"
)

// Result is what the grab saw.
type Result struct {
	Banner      string   `json:"banner"`
	KexInit     *KexInit `json:"kex_init,omitempty"`
	HostKeyType string   `json:"host_key_type,omitempty"`
	Fingerprint string   `json:"host_key_sha256,omitempty"`
}

// Facts feeds classification.
func (r *Result) Facts() scan.Facts { return scan.Facts{Service: "ssh", Banner: r.Banner} }

// Module is the SSH grabber.
type Module struct{}

var _ scan.Module = Module{}

func init() { scan.RegisterModule(Module{}) }

func (Module) Name() string        { return "ssh" }
func (Module) Protocol() string    { return "ssh" }
func (Module) Transport() string   { return "tcp" }
func (Module) DefaultPort() uint16 { return 22 }

var errAbort = errors.New("host key recorded")

// recorder keeps the first bytes the server sends (banner and KEXINIT).
type recorder struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

const maxRecord = 64 << 10

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	if room := maxRecord - len(r.buf); room > 0 {
		r.buf = append(r.buf, p[:min(n, room)]...)
	}
	r.mu.Unlock()
	return n, err
}

// Scan runs the handshake up to the host key.
func (Module) Scan(ctx context.Context, t scan.Target) (scan.Status, any, error) {
	conn, err := t.Dial(ctx, "tcp")
	if err != nil {
		return scan.StatusFromError(err), nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	rec := &recorder{Conn: conn}
	res := &Result{}
	cfg := &xssh.ClientConfig{
		User: "kansoku-scan",
		HostKeyCallback: func(_ string, _ net.Addr, key xssh.PublicKey) error {
			res.HostKeyType = key.Type()
			res.Fingerprint = xssh.FingerprintSHA256(key)
			return errAbort
		},
		ClientVersion: "SSH-2.0-kansoku-scan",
	}
	_, _, _, herr := xssh.NewClientConn(rec, t.Addr(), cfg)

	rec.mu.Lock()
	raw := rec.buf
	rec.mu.Unlock()
	line, rest, berr := ParseBanner(raw)
	if berr != nil {
		if herr != nil && !errors.Is(herr, errAbort) && len(raw) == 0 {
			return scan.StatusFromError(herr), nil, herr
		}
		return scan.StatusProtocolError, nil, scan.ProtocolError("ssh: %v", berr)
	}
	res.Banner = line
	if kex, err := ParseKexInit(rest); err == nil {
		res.KexInit = kex
	}
	if res.Fingerprint == "" {
		// Banner but no host key: negotiation failed (no common algorithm)
		// or the server hung up; what was seen is still reported.
		return scan.StatusApplicationError, res, herr
	}
	return scan.StatusSuccess, res, nil
}
