package tlsserver

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// JA4 is the JA4 TLS client fingerprint (FoxIO's specification,
// BSD-3-Clause) of a hello as crypto/tls reports it:
// t<version><d|i><ciphers><extensions><alpn>_<sorted ciphers hash>_<sorted
// extensions (without SNI and ALPN) and signature algorithms hash>, GREASE
// values left out. Unlike JA3 it does not change when a client shuffles
// its extensions.
func JA4(hi *tls.ClientHelloInfo) string {
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
		if e != 0x0000 && e != 0x0010 { // SNI and ALPN are in the first part
			exts = append(exts, fmt.Sprintf("%04x", e))
		}
	}
	alpn := "00"
	if len(hi.SupportedProtos) > 0 && hi.SupportedProtos[0] != "" {
		p := hi.SupportedProtos[0]
		if f, l := p[0], p[len(p)-1]; alnum(f) && alnum(l) {
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

func alnum(b byte) bool {
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
