package tlsserver

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/kansoku/kansoku/internal/event"
)

// Hello is what the client's TLS hello says about the software that sent
// it: clients, scanners and spraying tools each have their own TLS
// library, so its JA3 hash tells them apart. Record it from
// tls.Config.GetConfigForClient; it is safe for concurrent use.
type Hello struct {
	mu   sync.Mutex
	seen bool
	sni  string
	alpn []string
	ja3  string
	ja4  string
}

// Record keeps what the hello says.
func (h *Hello) Record(chi *tls.ClientHelloInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen, h.sni, h.alpn = true, chi.ServerName, chi.SupportedProtos
	h.ja3 = JA3(chi)
	h.ja4 = JA4(chi)
}

// Fields adds ja3 (MD5), ja3_full, ja4, sni and alpn to e, when a hello was seen.
func (h *Hello) Fields(e *event.Event) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.seen {
		return
	}
	sum := md5.Sum([]byte(h.ja3))
	e.Set("ja3", hex.EncodeToString(sum[:])).Set("ja3_full", h.ja3).Set("ja4", h.ja4)
	if h.sni != "" {
		e.SetText("sni", h.sni)
	}
	if len(h.alpn) > 0 {
		alpn := make([]string, len(h.alpn))
		for i, a := range h.alpn {
			alpn[i] = event.EscapeInvalid(a)
		}
		e.Set("alpn", alpn)
	}
}

// ShareTickets gives cfg session ticket keys of its own, so that the
// per-connection copies Server makes resume each other's sessions (a copy
// would otherwise draw its own keys on first use).
func ShareTickets(cfg *tls.Config) error {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return fmt.Errorf("tlsserver: ticket key: %w", err)
	}
	cfg.SetSessionTicketKeys([][32]byte{k})
	return nil
}

// Server wraps conn as the server side of TLS with base (prepared with
// ShareTickets), recording the client's hello.
func Server(conn net.Conn, base *tls.Config) (*tls.Conn, *Hello) {
	h := &Hello{}
	cfg := base.Clone()
	cfg.GetConfigForClient = func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		h.Record(chi)
		return nil, nil
	}
	return tls.Server(conn, cfg), h
}

// JA3 is the JA3 string of a hello: version, ciphers, extensions, curves,
// point formats, GREASE values left out. Go does not expose the hello's
// legacy version; a client offering TLS 1.2 or later sends 0x0303 there.
func JA3(chi *tls.ClientHelloInfo) string {
	var b strings.Builder
	vers := uint16(0)
	for _, v := range chi.SupportedVersions {
		if !grease(v) && v > vers {
			vers = v
		}
	}
	vers = min(vers, tls.VersionTLS12)
	b.WriteString(strconv.Itoa(int(vers)))
	list := func(vs []uint16) {
		b.WriteByte(',')
		first := true
		for _, v := range vs {
			if grease(v) {
				continue
			}
			if !first {
				b.WriteByte('-')
			}
			first = false
			b.WriteString(strconv.Itoa(int(v)))
		}
	}
	list(chi.CipherSuites)
	list(chi.Extensions)
	curves := make([]uint16, len(chi.SupportedCurves))
	for i, c := range chi.SupportedCurves {
		curves[i] = uint16(c)
	}
	list(curves)
	points := make([]uint16, len(chi.SupportedPoints))
	for i, p := range chi.SupportedPoints {
		points[i] = uint16(p)
	}
	list(points)
	return b.String()
}

// grease tells RFC 8701's reserved values (0x?a?a) apart.
func grease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }
