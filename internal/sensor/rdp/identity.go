package rdp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
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

// certLifetime is how long the self-signed certificate Windows makes for
// RDP is valid before it makes a new one.
const certLifetime = 182 * 24 * time.Hour

// certificate returns the TLS certificate: the one kept in dir when it is
// still valid for subject, otherwise a new self-signed RSA-2048 one like
// Windows' (CN = the host's DNS name, server authentication only), saved
// to dir when dir is set.
func certificate(dir, subject string, now time.Time) (tls.Certificate, error) {
	path := ""
	if dir != "" {
		path = filepath.Join(dir, "rdp-certificate.pem")
		if c, err := loadCert(path, subject, now); err == nil {
			return c, nil
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("rdp: generate key: %w", err)
	}
	serial := make([]byte, 16)
	if _, err := rand.Read(serial); err != nil {
		return tls.Certificate{}, err
	}
	// Windows dates the certificate from when it made it; back-date a
	// little so a fresh sensor does not look fresh.
	from := now.Add(-time.Duration(serial[0]%90) * 24 * time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(serial),
		Subject:            pkix.Name{CommonName: subject},
		NotBefore:          from,
		NotAfter:           from.Add(certLifetime),
		KeyUsage:           x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("rdp: create certificate: %w", err)
	}
	if path != "" {
		var b []byte
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("rdp: save certificate: %w", err)
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func loadCert(path, subject string, now time.Time) (tls.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return tls.Certificate{}, err
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	if x.Subject.CommonName != subject || now.After(x.NotAfter) {
		return tls.Certificate{}, errors.New("rdp: stored certificate is stale")
	}
	return c, nil
}
