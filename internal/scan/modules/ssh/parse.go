package ssh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
)

// KexInit is the server's SSH_MSG_KEXINIT (RFC 4253 §7.1).
type KexInit struct {
	KexAlgorithms           []string `json:"kex_algorithms"`
	HostKeyAlgorithms       []string `json:"host_key_algorithms"`
	CiphersClientServer     []string `json:"ciphers_client_to_server"`
	CiphersServerClient     []string `json:"ciphers_server_to_client"`
	MACsClientServer        []string `json:"macs_client_to_server"`
	MACsServerClient        []string `json:"macs_server_to_client"`
	CompressionClientServer []string `json:"compression_client_to_server"`
	CompressionServerClient []string `json:"compression_server_to_client"`
	FirstKexFollows         bool     `json:"first_kex_follows"`
}

var (
	errNoBanner = errors.New("no SSH identification line")
	errKexInit  = errors.New("malformed KEXINIT")
)

const (
	maxBannerLines = 32
	maxLine        = 255 // RFC 4253 §4.2
	maxPacket      = 35000
	msgKexInit     = 20
)

// ParseBanner finds the identification line ("SSH-2.0-…") in what the server
// sent first, skipping the free-text lines RFC 4253 allows before it, and
// returns the line and the bytes after it.
func ParseBanner(b []byte) (line string, rest []byte, err error) {
	for range maxBannerLines {
		i := bytes.IndexByte(b, '\n')
		if i < 0 || i > maxLine+1 {
			return "", nil, errNoBanner
		}
		l := strings.TrimRight(string(b[:i]), "\r")
		b = b[i+1:]
		if strings.HasPrefix(l, "SSH-") {
			return strings.ToValidUTF8(l, "\uFFFD"), b, nil
		}
	}
	return "", nil, errNoBanner
}

// ParseKexInit parses the first binary packet after the banner, which is
// sent unencrypted.
func ParseKexInit(b []byte) (*KexInit, error) {
	if len(b) < 5 {
		return nil, errKexInit
	}
	plen := binary.BigEndian.Uint32(b)
	pad := int(b[4])
	if plen < 1 || plen > maxPacket || int(plen) > len(b)-4 || pad >= int(plen) {
		return nil, errKexInit
	}
	payload := b[5 : 4+int(plen)-pad]
	if len(payload) < 17 || payload[0] != msgKexInit {
		return nil, errKexInit
	}
	p := payload[17:]
	lists := make([][]string, 10)
	for i := range lists {
		if len(p) < 4 {
			return nil, errKexInit
		}
		n := binary.BigEndian.Uint32(p)
		if uint64(n) > uint64(len(p)-4) {
			return nil, errKexInit
		}
		if n > 0 {
			lists[i] = strings.Split(strings.ToValidUTF8(string(p[4:4+n]), "\uFFFD"), ",")
		}
		p = p[4+n:]
	}
	if len(p) < 1 {
		return nil, errKexInit
	}
	return &KexInit{
		KexAlgorithms: lists[0], HostKeyAlgorithms: lists[1],
		CiphersClientServer: lists[2], CiphersServerClient: lists[3],
		MACsClientServer: lists[4], MACsServerClient: lists[5],
		CompressionClientServer: lists[6], CompressionServerClient: lists[7],
		FirstKexFollows: p[0] != 0,
	}, nil
}
