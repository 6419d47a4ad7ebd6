package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// TFTP opcodes (RFC 1350).
const (
	tftpRRQ   = 1
	tftpWRQ   = 2
	tftpDATA  = 3
	tftpACK   = 4
	tftpERROR = 5
)

const (
	tftpBlock      = 512
	tftpRetries    = 5
	tftpRetransmit = time.Second
)

// TFTPPacket is one decoded TFTP packet.
type TFTPPacket struct {
	Op      uint16
	Block   uint16 // DATA, ACK
	Data    []byte // DATA
	Code    uint16 // ERROR
	Message string // ERROR
}

// ParseTFTP decodes a packet a server sent (DATA, ACK or ERROR).
func ParseTFTP(b []byte) (TFTPPacket, error) {
	if len(b) < 4 {
		return TFTPPacket{}, errors.New("tftp: short packet")
	}
	p := TFTPPacket{Op: binary.BigEndian.Uint16(b)}
	switch p.Op {
	case tftpDATA:
		if len(b) > 4+tftpBlock {
			return p, fmt.Errorf("tftp: data packet of %d bytes", len(b)-4)
		}
		p.Block = binary.BigEndian.Uint16(b[2:])
		p.Data = b[4:]
	case tftpACK:
		p.Block = binary.BigEndian.Uint16(b[2:])
	case tftpERROR:
		p.Code = binary.BigEndian.Uint16(b[2:])
		msg := b[4:]
		if i := bytes.IndexByte(msg, 0); i >= 0 {
			msg = msg[:i]
		}
		if len(msg) > 512 {
			msg = msg[:512]
		}
		p.Message = string(msg)
	default:
		return p, fmt.Errorf("tftp: unexpected opcode %d", p.Op)
	}
	return p, nil
}

func tftpRequest(file string) []byte {
	b := binary.BigEndian.AppendUint16(nil, tftpRRQ)
	b = append(b, file...)
	b = append(b, 0)
	b = append(b, "octet"...)
	return append(b, 0)
}

func tftpAck(block uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tftpACK), block)
}

func tftpError(code uint16, msg string) []byte {
	b := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tftpERROR), code)
	return append(append(b, msg...), 0)
}

// fetchTFTP reads tftp://host[:port]/file in octet mode: RRQ to the
// server's port, then DATA from the transfer port it picks, each block
// acknowledged, the last packet retransmitted when an answer is late.
func (f *Fetcher) fetchTFTP(ctx context.Context, u *url.URL) (*Result, error) {
	file := strings.TrimPrefix(u.Path, "/")
	if file == "" || len(file) > 255 || strings.IndexByte(file, 0) >= 0 {
		return nil, withKind(KindBadURL, fmt.Errorf("bad tftp file name %q", file))
	}
	addrs, err := f.resolve(ctx, u.Hostname())
	if err != nil {
		return nil, err
	}
	server := netip.AddrPortFrom(addrs[0].Unmap(), portOf(u, 69))
	network := "udp4"
	if server.Addr().Is6() {
		network = "udp6"
	}
	lc := net.ListenConfig{}
	pc, err := lc.ListenPacket(ctx, network, ":0")
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { _ = pc.SetReadDeadline(time.Now()) })
	defer stop()
	conn := pc.(*net.UDPConn)

	res := &Result{URL: u.String(), FinalURL: u.String(), Addr: server}
	var body []byte
	last := tftpRequest(file)
	dest := server
	var peer netip.AddrPort // the server's transfer id, fixed by its first answer
	expect := uint16(1)
	buf := make([]byte, 4+tftpBlock+1)
	for {
		if _, err := conn.WriteToUDPAddrPort(last, dest); err != nil {
			return res, err
		}
		tries := 0
	recv:
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		_ = conn.SetReadDeadline(time.Now().Add(tftpRetransmit))
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				if tries++; tries >= tftpRetries {
					return res, withKind(KindTimeout, fmt.Errorf("tftp: no answer after %d tries", tries))
				}
				if _, err := conn.WriteToUDPAddrPort(last, dest); err != nil {
					return res, err
				}
				goto recv
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if from.Addr() != server.Addr() {
			// Anyone else, refused by the policy or not, is dropped
			// unanswered: an answer would be a packet the policy never
			// allowed (a spoofed source makes us write to it).
			goto recv
		}
		if peer.IsValid() && from != peer {
			// RFC 1350: a packet from an unknown TID of the server's own
			// host gets an error, and the transfer goes on.
			_, _ = conn.WriteToUDPAddrPort(tftpError(5, "Unknown transfer ID"), from)
			goto recv
		}
		p, err := ParseTFTP(buf[:n])
		if err != nil {
			return res, withKind(KindProtocol, err)
		}
		if p.Op == tftpERROR {
			res.Status = int(p.Code)
			return res, withKind(KindRemote, fmt.Errorf("tftp error %d: %q", p.Code, p.Message))
		}
		if p.Op != tftpDATA {
			return res, withKind(KindProtocol, fmt.Errorf("tftp: opcode %d during read", p.Op))
		}
		if !peer.IsValid() {
			peer, dest = from, from
			res.Addr = from
		}
		if p.Block != expect {
			goto recv // a duplicate after our retransmission: ignore
		}
		if int64(len(body)+len(p.Data)) > f.cfg.MaxBytes {
			_, _ = conn.WriteToUDPAddrPort(tftpError(3, "Disk full or allocation exceeded"), dest)
			return res, withKind(KindTooLarge, fmt.Errorf("tftp: file over %d bytes", f.cfg.MaxBytes))
		}
		body = append(body, p.Data...)
		last = tftpAck(p.Block)
		expect++
		if len(p.Data) < tftpBlock {
			_, _ = conn.WriteToUDPAddrPort(last, dest)
			res.Body = body
			return res, nil
		}
	}
}
