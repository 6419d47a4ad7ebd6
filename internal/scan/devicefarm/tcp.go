package devicefarm

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Telnet IAC negotiation the fake devices open with, in three styles seen
// on real BusyBox and vendor telnetds.
var telnetOpeners = [][]byte{
	{255, 251, 1, 255, 251, 3, 255, 253, 24, 255, 253, 31}, // WILL ECHO, WILL SGA, DO TTYPE, DO NAWS
	{255, 253, 1, 255, 253, 31, 255, 251, 1, 255, 251, 3},  // DO ECHO, DO NAWS, WILL ECHO, WILL SGA
	{255, 251, 3, 255, 251, 1},                             // WILL SGA, WILL ECHO
}

func telnetBanner(d *Device) string {
	switch d.Template {
	case "wr-router":
		return "\r\nWirelink WR-940 v2\r\nwr940 login: "
	case "ipcam":
		return "\r\n(none) login: "
	case "aquagate":
		return "\r\nAquaGate GC-3 maintenance console\r\nUser: "
	case "suii-logger":
		return "\r\nSL-200 (" + d.serial + ")\r\nlogin: "
	}
	return "\r\nBusyBox v1.19.4 built-in shell\r\nlogin: "
}

// serveTelnet sends the options and the login prompt, then only reads:
// the farm never grants a login.
func serveTelnet(ctx context.Context, c net.Conn, d *Device) {
	c.Write(telnetOpeners[d.telnetStyle])
	c.Write([]byte(telnetBanner(d)))
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

func ftpBanner(d *Device) string {
	switch d.Template {
	case "storebox-nas":
		return "220 StoreBox FTP server ready.\r\n"
	case "suii-logger":
		return "220-SL-200 data logger FTP service\r\n220 Ready for log download.\r\n"
	case "solareye":
		return "220 (vsFTPd 2.3.4)\r\n"
	}
	return "220 FTP server ready.\r\n"
}

func serveFTP(c net.Conn, d *Device) {
	c.Write([]byte(ftpBanner(d)))
	r := bufio.NewReader(io.LimitReader(c, 64<<10))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.Fields(line + " x")[0])
		switch cmd {
		case "QUIT":
			c.Write([]byte("221 Goodbye.\r\n"))
			return
		case "USER":
			c.Write([]byte("331 Please specify the password.\r\n"))
		case "PASS":
			c.Write([]byte("530 Login incorrect.\r\n"))
		default:
			c.Write([]byte("530 Please login with USER and PASS.\r\n"))
		}
	}
}

func modbusObjects(d *Device) map[byte]string {
	switch d.Template {
	case "aquagate":
		return map[byte]string{0: "AquaGate Systems", 1: "GC-3", 2: "3.0.12", 3: "http://aquagate.example", 4: "AquaGate Gate Controller"}
	case "damview":
		return map[byte]string{0: "Hokuriku Denki", 1: "DM-10", 2: "2.4"}
	}
	return map[byte]string{0: "Contrix", 1: "CX-500", 2: "V1.8.3", 4: "CX-500 PLC"}
}

// serveModbus answers FC 43/14 and an "illegal function" exception to
// everything else.
func serveModbus(c net.Conn, d *Device) {
	hdr := make([]byte, 7)
	for {
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[4:]))
		if n < 2 || n > 254 {
			return
		}
		pdu := make([]byte, n-1)
		if _, err := io.ReadFull(c, pdu); err != nil {
			return
		}
		var resp []byte
		if len(pdu) >= 4 && pdu[0] == 0x2B && pdu[1] == 0x0E {
			resp = deviceIdent(d, pdu[2], pdu[3])
		} else {
			resp = []byte{pdu[0] | 0x80, 0x01}
		}
		out := make([]byte, 7, 7+len(resp))
		copy(out, hdr[:4])
		binary.BigEndian.PutUint16(out[4:], uint16(len(resp)+1))
		out[6] = hdr[6]
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// deviceIdent builds the FC 43/14 reply; "split" devices answer in two
// parts with "more follows" set, as devices with small buffers do.
func deviceIdent(d *Device, code, start byte) []byte {
	objs := modbusObjects(d)
	var ids []byte
	for id := start; id <= 6; id++ {
		if _, ok := objs[id]; ok {
			if code == 1 && id > 2 {
				break
			}
			ids = append(ids, id)
		}
	}
	more, next := byte(0), byte(0)
	if d.modbusSplit && start == 0 && len(ids) > 1 {
		more, next = 0xFF, ids[1]
		ids = ids[:1]
	}
	out := []byte{0x2B, 0x0E, code, 0x81, more, next, byte(len(ids))}
	for _, id := range ids {
		out = append(out, id, byte(len(objs[id])))
		out = append(out, objs[id]...)
	}
	return out
}

// deviceSeed derives per-device key material from the farm seed.
func deviceSeed(seed uint64, ip netip.Addr, what string) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%s/%s", seed, ip, what)))
	return h[:]
}

type sshCache struct {
	seed uint64
	mu   sync.Mutex
	cfgs map[netip.Addr]*ssh.ServerConfig
}

func newSSHCache(seed uint64) *sshCache {
	return &sshCache{seed: seed, cfgs: map[netip.Addr]*ssh.ServerConfig{}}
}

func (s *sshCache) config(d *Device) *ssh.ServerConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cfgs[d.IP]; ok {
		return c
	}
	key := ed25519.NewKeyFromSeed(deviceSeed(s.seed, d.IP, "ssh"))
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		panic(err) // an ed25519 key always makes a signer
	}
	c := &ssh.ServerConfig{
		ServerVersion: d.sshVersion,
		PasswordCallback: func(ssh.ConnMetadata, []byte) (*ssh.Permissions, error) {
			return nil, fmt.Errorf("devicefarm: no logins")
		},
	}
	c.AddHostKey(signer)
	s.cfgs[d.IP] = c
	return c
}

// HostKeyFingerprint is the SHA256 fingerprint the device's SSH server shows.
func (f *Farm) HostKeyFingerprint(d *Device) string {
	key := ed25519.NewKeyFromSeed(deviceSeed(f.cfg.Seed, d.IP, "ssh"))
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(pub)
}

func (s *sshCache) serve(c net.Conn, d *Device) {
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config(d))
	if err != nil {
		return // the scanner aborts at the host key: the usual end
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for ch := range chans {
		ch.Reject(ssh.Prohibited, "no")
	}
}

type tlsCache struct {
	seed  uint64
	mu    sync.Mutex
	certs map[netip.Addr]*tls.Certificate
}

func newTLSCache(seed uint64) *tlsCache {
	return &tlsCache{seed: seed, certs: map[netip.Addr]*tls.Certificate{}}
}

func (t *tlsCache) cert(d *Device) (*tls.Certificate, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.certs[d.IP]; ok {
		return c, nil
	}
	key := ed25519.NewKeyFromSeed(deviceSeed(t.seed, d.IP, "tls"))
	name := "storebox-" + strings.ToLower(d.serial[:4]) + ".local"
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(deviceSeed(t.seed, d.IP, "serial")[:8]),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"StoreBox"}},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{d.IP.AsSlice()},
		NotBefore:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("devicefarm: certificate: %w", err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	t.certs[d.IP] = c
	return c, nil
}

// CertName is the common name of the device's TLS certificate.
func CertName(d *Device) string { return "storebox-" + strings.ToLower(d.serial[:4]) + ".local" }

func (t *tlsCache) listener(l net.Listener, d *Device) net.Listener {
	return tls.NewListener(l, &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return t.cert(d) },
	})
}
