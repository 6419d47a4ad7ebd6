package http

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
	"github.com/kansoku/kansoku/internal/webprofile"
)

// tlsConfig is the instance's TLS side: the certificate device firmware
// makes on first boot (self-signed RSA 2048 with the model as common name,
// valid for years from a day in the past), kept in the data directory so
// it stays the same across restarts.
func tlsConfig(dataDir string, site *webprofile.Site) (*tls.Config, error) {
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
	subj := pkix.Name{CommonName: cn}
	if spec.Organization != "" {
		subj.Organization = []string{spec.Organization}
	}
	if spec.Country != "" {
		subj.Country = []string{spec.Country}
	}
	days := spec.Days
	if days <= 0 {
		days = 3650
	}
	cert, err := tlsserver.Certificate(dataDir, tlsserver.Spec{File: "tls.pem", Subject: subj,
		Lifetime: time.Duration(days) * 24 * time.Hour, Backdate: 3 * 365 * 24 * time.Hour,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}, time.Now())
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		// Embedded servers speak TLS 1.2 at most.
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
	}, nil
}
