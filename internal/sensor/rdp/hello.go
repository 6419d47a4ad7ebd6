package rdp

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"github.com/kansoku/kansoku/internal/event"
)

// clientHello is what the client's TLS hello says about the software that
// sent it: RDP clients, scanners and spraying tools each have their own
// TLS library, so its JA3 hash tells them apart.
type clientHello struct {
	mu   sync.Mutex
	seen bool
	sni  string
	alpn []string
	ja3  string
}

func (h *clientHello) record(chi *tls.ClientHelloInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen, h.sni, h.alpn = true, chi.ServerName, chi.SupportedProtos
	h.ja3 = ja3(chi)
}

func (h *clientHello) fields(e *event.Event) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.seen {
		return
	}
	sum := md5.Sum([]byte(h.ja3))
	e.Set("ja3", hex.EncodeToString(sum[:])).Set("ja3_full", h.ja3)
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

// ja3 is the JA3 string of a hello: version, ciphers, extensions, curves,
// point formats, GREASE values left out. Go does not expose the hello's
// legacy version; a client offering TLS 1.2 or later sends 0x0303 there.
func ja3(chi *tls.ClientHelloInfo) string {
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
