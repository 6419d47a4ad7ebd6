package ssh

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
)

// KexInit is a decoded SSH_MSG_KEXINIT (RFC 4253 §7.1).
type KexInit struct {
	KEX, HostKey, EncC2S, EncS2C, MACC2S, MACS2C, CompC2S, CompS2C, LangC2S, LangS2C []string
	FirstKexFollows                                                                  bool
}

const msgKexInit = 20

// maxNameList bounds one name-list; OpenSSH's own limit is far lower.
const maxNameList = 8192

// ParseKexInit decodes a KEXINIT payload (starting with the message byte).
func ParseKexInit(p []byte) (*KexInit, error) {
	if len(p) < 17 || p[0] != msgKexInit {
		return nil, errors.New("ssh: not a KEXINIT message")
	}
	p = p[17:] // type + cookie
	var lists [10][]string
	for i := range lists {
		if len(p) < 4 {
			return nil, errors.New("ssh: KEXINIT truncated")
		}
		n := binary.BigEndian.Uint32(p)
		p = p[4:]
		if n > maxNameList || int(n) > len(p) {
			return nil, fmt.Errorf("ssh: KEXINIT name-list of %d bytes", n)
		}
		if n > 0 {
			lists[i] = strings.Split(string(p[:n]), ",")
		} else {
			lists[i] = []string{}
		}
		p = p[n:]
	}
	if len(p) < 5 {
		return nil, errors.New("ssh: KEXINIT truncated")
	}
	return &KexInit{KEX: lists[0], HostKey: lists[1], EncC2S: lists[2], EncS2C: lists[3], MACC2S: lists[4], MACS2C: lists[5],
		CompC2S: lists[6], CompS2C: lists[7], LangC2S: lists[8], LangS2C: lists[9], FirstKexFollows: p[0] != 0}, nil
}

// HASSHAlgorithms is the string HASSH hashes: kex;enc_c2s;mac_c2s;comp_c2s.
func (k *KexInit) HASSHAlgorithms() string {
	return strings.Join([]string{strings.Join(k.KEX, ","), strings.Join(k.EncC2S, ","), strings.Join(k.MACC2S, ","), strings.Join(k.CompC2S, ",")}, ";")
}

// HASSH is the client fingerprint of Salesforce's HASSH: the MD5 of
// HASSHAlgorithms.
func (k *KexInit) HASSH() string {
	s := md5.Sum([]byte(k.HASSHAlgorithms()))
	return hex.EncodeToString(s[:])
}

// Bounds of what the sniffer keeps before giving up.
const (
	maxVersionLine = 255 // RFC 4253 §4.2
	maxSniff       = 64 << 10
	maxPacket      = 35000
)

// sniffConn passes everything through to x/crypto/ssh while parsing the
// client's version line and first binary packet (the KEXINIT), which the
// library does not expose.
type sniffConn struct {
	net.Conn

	mu      sync.Mutex
	buf     []byte
	done    bool
	version string
	kex     *KexInit
	err     error
	ready   chan struct{}
}

func newSniffConn(c net.Conn) *sniffConn { return &sniffConn{Conn: c, ready: make(chan struct{})} }

func (s *sniffConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if n > 0 {
		s.mu.Lock()
		if !s.done {
			s.buf = append(s.buf, p[:n]...)
			s.parse()
		}
		s.mu.Unlock()
	}
	return n, err
}

// parse tries to complete the version line and KEXINIT from buf; callers
// hold s.mu.
func (s *sniffConn) parse() {
	finish := func(err error) {
		s.err, s.done, s.buf = err, true, nil
		close(s.ready)
	}
	for s.version == "" {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			if len(s.buf) > maxSniff {
				finish(errors.New("ssh: no version line"))
			}
			return
		}
		line := strings.TrimRight(string(s.buf[:i]), "\r")
		s.buf = s.buf[i+1:]
		if strings.HasPrefix(line, "SSH-") {
			if len(line) > maxVersionLine {
				line = line[:maxVersionLine]
			}
			s.version = line
		}
	}
	if len(s.buf) < 5 {
		return
	}
	n := binary.BigEndian.Uint32(s.buf)
	if n > maxPacket || n < 2 {
		finish(fmt.Errorf("ssh: first packet length %d", n))
		return
	}
	if len(s.buf) < int(4+n) {
		return
	}
	pad := int(s.buf[4])
	if pad+1 > int(n) {
		finish(errors.New("ssh: bad padding length"))
		return
	}
	k, err := ParseKexInit(s.buf[5 : 4+int(n)-pad])
	s.kex = k
	finish(err)
}

// result returns what was sniffed so far.
func (s *sniffConn) result() (string, *KexInit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, s.kex, s.err
}
