package tlsserver

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

func TestCertificateKeptWhileValid(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	spec := Spec{File: "c.pem", Subject: pkix.Name{CommonName: "HOST", Organization: []string{"Org"}}, Lifetime: 30 * 24 * time.Hour, Backdate: 24 * time.Hour, KeyUsage: x509.KeyUsageDigitalSignature}
	a, err := Certificate(dir, spec, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Certificate(dir, spec, now.Add(24*time.Hour))
	if string(a.Certificate[0]) != string(b.Certificate[0]) {
		t.Error("a valid stored certificate was not reused")
	}
	x, _ := x509.ParseCertificate(a.Certificate[0])
	if x.Subject.CommonName != "HOST" || x.NotBefore.After(now) || x.NotAfter.Before(now) {
		t.Errorf("certificate %v valid %v..%v", x.Subject, x.NotBefore, x.NotAfter)
	}
	for name, c := range map[string]func() (tls.Certificate, error){
		"expired": func() (tls.Certificate, error) { return Certificate(dir, spec, now.Add(60*24*time.Hour)) },
		"renamed": func() (tls.Certificate, error) {
			s := spec
			s.Subject.CommonName = "OTHER"
			return Certificate(dir, s, now)
		},
	} {
		got, err := c()
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Certificate[0]) == string(a.Certificate[0]) {
			t.Errorf("%s: stale certificate reused", name)
		}
	}
}

func TestJA3(t *testing.T) {
	chi := &tls.ClientHelloInfo{
		SupportedVersions: []uint16{0x1a1a, tls.VersionTLS13, tls.VersionTLS12},
		CipherSuites:      []uint16{0x2a2a, 4865, 49195},
		Extensions:        []uint16{0, 0x3a3a, 10, 11},
		SupportedCurves:   []tls.CurveID{0x4a4a, tls.X25519, tls.CurveP256},
		SupportedPoints:   []uint8{0},
	}
	if got := JA3(chi); got != "771,4865-49195,0-10-11,29-23,0" {
		t.Fatalf("JA3 %q", got)
	}
}
