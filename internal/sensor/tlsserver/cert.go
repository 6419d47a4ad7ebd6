// Package tlsserver is the TLS side that sensors posing as TLS servers
// share: a self-signed certificate kept per sensor instance, shaped like
// the one the imitated product makes, and the client's hello recorded as a
// JA3 fingerprint.
package tlsserver

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Spec describes the certificate a product makes for itself.
type Spec struct {
	// File is the PEM file under the instance's data directory.
	File     string
	Subject  pkix.Name
	Lifetime time.Duration
	// Backdate is the most the validity start is moved into the past, so
	// that a fresh sensor's certificate does not look fresh.
	Backdate time.Duration
	KeyUsage x509.KeyUsage
}

// Certificate returns the certificate kept in dir when it is still valid
// and has spec's subject, otherwise a new self-signed RSA-2048 one saved
// to dir (when dir is set).
func Certificate(dir string, spec Spec, now time.Time) (tls.Certificate, error) {
	path := ""
	if dir != "" && spec.File != "" {
		path = filepath.Join(dir, spec.File)
		if c, err := load(path, spec.Subject, now); err == nil {
			return c, nil
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsserver: generate key: %w", err)
	}
	serial := make([]byte, 16)
	if _, err := rand.Read(serial); err != nil {
		return tls.Certificate{}, err
	}
	serial[0] &= 0x7f
	from := now
	if spec.Backdate > 0 {
		from = now.Add(-time.Duration(int64(serial[1]) * int64(spec.Backdate) / 256))
	}
	from = from.Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:       new(big.Int).SetBytes(serial),
		Subject:            spec.Subject,
		NotBefore:          from,
		NotAfter:           from.Add(spec.Lifetime),
		KeyUsage:           spec.KeyUsage,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsserver: create certificate: %w", err)
	}
	if path != "" {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return tls.Certificate{}, fmt.Errorf("tlsserver: save certificate: %w", err)
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func load(path string, subject pkix.Name, now time.Time) (tls.Certificate, error) {
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
	want, err := asn1.Marshal(subject.ToRDNSequence())
	if err != nil {
		return tls.Certificate{}, err
	}
	if !bytes.Equal(x.RawSubject, want) || now.After(x.NotAfter) {
		return tls.Certificate{}, errors.New("tlsserver: stored certificate is stale")
	}
	return c, nil
}
