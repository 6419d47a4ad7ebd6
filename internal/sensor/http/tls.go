package http

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/webprofile"
)

// tlsConfig loads the instance's certificate from dataDir, or makes one
// the way device firmware does on first boot (self-signed RSA 2048, the
// model as common name, valid for years from a date in the past) and keeps
// it, so the certificate stays the same across restarts.
func tlsConfig(dataDir string, site *webprofile.Site, seed []byte) (*tls.Config, error) {
	certFile, keyFile := filepath.Join(dataDir, "tls-cert.pem"), filepath.Join(dataDir, "tls-key.pem")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if errors.Is(err, os.ErrNotExist) {
		cert, err = makeCert(certFile, keyFile, site, seed)
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		// Embedded servers speak TLS 1.2 at most, with a short list.
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
	}, nil
}

func makeCert(certFile, keyFile string, site *webprofile.Site, seed []byte) (tls.Certificate, error) {
	spec := site.Profile.TLS
	if spec == nil {
		spec = &webprofile.TLSSpec{}
	}
	cn := spec.CommonName
	for k, v := range site.Identity {
		cn = strings.ReplaceAll(cn, "{"+k+"}", v)
	}
	if cn == "" {
		cn = site.Profile.Name
	}
	days := spec.Days
	if days <= 0 {
		days = 3650
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, err
	}
	// The device made it when it was first powered on: a day drawn from
	// the seed in the last three years.
	h := sha256.Sum256(append([]byte("kansoku/http/tls\x00"), seed...))
	born := time.Now().UTC().Add(-time.Duration(30+binary.BigEndian.Uint32(h[:4])%1000) * 24 * time.Hour).Truncate(time.Hour)
	serial := new(big.Int).SetBytes(h[4:12])
	subj := pkix.Name{CommonName: cn}
	if spec.Organization != "" {
		subj.Organization = []string{spec.Organization}
	}
	if spec.Country != "" {
		subj.Country = []string{spec.Country}
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subj, Issuer: subj,
		NotBefore: born, NotAfter: born.Add(time.Duration(days) * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, fmt.Errorf("write key: %w", err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, fmt.Errorf("write certificate: %w", err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// clientHello is what the handshake told about the client.
type clientHello struct {
	SNI  string
	JA4  string
	ALPN []string
}

func grease(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// ja4 computes the JA4 TLS client fingerprint (FoxIO's specification,
// BSD-3-Clause) from what crypto/tls reports of a ClientHello:
// t<version><d|i><ciphers><extensions><alpn>_<sorted ciphers hash>_<sorted
// extensions, signature algorithms hash>.
func ja4(hi *tls.ClientHelloInfo) string {
	var ver uint16
	for _, v := range hi.SupportedVersions {
		if !grease(v) && v > ver {
			ver = v
		}
	}
	vs := map[uint16]string{tls.VersionTLS13: "13", tls.VersionTLS12: "12", tls.VersionTLS11: "11", tls.VersionTLS10: "10", 0x0300: "s3"}[ver]
	if vs == "" {
		vs = "00"
	}
	sni := "i"
	if hi.ServerName != "" {
		sni = "d"
	}
	var ciphers, exts []string
	for _, c := range hi.CipherSuites {
		if !grease(c) {
			ciphers = append(ciphers, fmt.Sprintf("%04x", c))
		}
	}
	nExt := 0
	for _, e := range hi.Extensions {
		if grease(e) {
			continue
		}
		nExt++
		if e != 0x0000 && e != 0x0010 {
			exts = append(exts, fmt.Sprintf("%04x", e))
		}
	}
	alpn := "00"
	if len(hi.SupportedProtos) > 0 && hi.SupportedProtos[0] != "" {
		p := hi.SupportedProtos[0]
		f, l := p[0], p[len(p)-1]
		if isAlnum(f) && isAlnum(l) {
			alpn = string([]byte{f, l})
		} else {
			x := hex.EncodeToString([]byte(p))
			alpn = string([]byte{x[0], x[len(x)-1]})
		}
	}
	slices.Sort(ciphers)
	slices.Sort(exts)
	var sigs []string
	for _, s := range hi.SignatureSchemes {
		if !grease(uint16(s)) {
			sigs = append(sigs, fmt.Sprintf("%04x", uint16(s)))
		}
	}
	c := strings.Join(exts, ",")
	if len(sigs) > 0 {
		c += "_" + strings.Join(sigs, ",")
	}
	return "t" + vs + sni + two(len(ciphers)) + two(nExt) + alpn + "_" + hash12(strings.Join(ciphers, ",")) + "_" + hash12(c)
}

func isAlnum(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func two(n int) string {
	n = min(n, 99)
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
