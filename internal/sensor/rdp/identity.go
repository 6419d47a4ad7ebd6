package rdp

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
)

// The Windows host a sensor claims to be is drawn from the installation
// seed, so that it is stable across restarts and no two installations
// share a name.

func seeded(seed []byte, label string) *mrand.Rand {
	var k [32]byte
	h := sha256.New()
	h.Write([]byte("kansoku/rdp/" + label + "\x00"))
	h.Write(seed)
	copy(k[:], h.Sum(nil))
	return mrand.New(mrand.NewChaCha8(k))
}

const nameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// drawHost picks a computer name in one of the shapes Windows servers on
// the Internet have (setup's WIN-XXXXXXXXXXX, a desktop's DESKTOP-XXXXXXX,
// an administrator's RDS01) and an Active Directory domain.
func drawHost(seed []byte) (computer, domain, dnsDomain string) {
	r := seeded(seed, "host")
	rnd := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(nameChars[r.IntN(len(nameChars))])
		}
		return b.String()
	}
	switch r.IntN(4) {
	case 0, 1:
		computer = "WIN-" + rnd(11)
	case 2:
		computer = "DESKTOP-" + rnd(7)
	default:
		roles := []string{"RDS", "TS", "SRV", "APP", "RDGW", "TERM", "FS", "ERP"}
		computer = fmt.Sprintf("%s%02d", roles[r.IntN(len(roles))], 1+r.IntN(12))
	}
	domains := []string{"CORP", "OFFICE", "HQ", "INTRA", "AD", "MAIN", "GLOBAL", "LAN", "ADM", "BRANCH"}
	domain = domains[r.IntN(len(domains))]
	dnsDomain = strings.ToLower(domain) + ".local"
	return computer, domain, dnsDomain
}

// certSpec is the self-signed certificate Windows makes for RDP: CN = the
// host's DNS name, valid 182 days, server authentication only.
func certSpec(dnsName string) tlsserver.Spec {
	return tlsserver.Spec{
		File: "rdp-certificate.pem", Subject: pkix.Name{CommonName: dnsName},
		Lifetime: 182 * 24 * time.Hour, Backdate: 90 * 24 * time.Hour,
		KeyUsage: x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
	}
}
