package scan

import (
	"context"
	"errors"
	"os"
	"time"
)

// Amplification is what a UDP probe measured: the bytes a reflector would
// send a victim for each byte an attacker sends it (UDP payload bytes).
type Amplification struct {
	RequestBytes  int     `json:"request_bytes"`
	ResponseBytes int     `json:"response_bytes"`
	Packets       int     `json:"packets"`
	Factor        float64 `json:"factor"`
}

// Limits of one UDP exchange: replies are counted, not stored, past these.
const (
	udpMaxPackets = 1000
	udpMaxKeep    = 64 << 10
	udpIdle       = 300 * time.Millisecond
)

// ExchangeUDP sends req once and collects the replies until the sender goes
// quiet, the deadline passes or the limits are reached. Replies past the
// keep limit are counted for the amplification factor but not returned.
func ExchangeUDP(ctx context.Context, t Target, req []byte) ([][]byte, Amplification, error) {
	amp := Amplification{RequestBytes: len(req)}
	conn, err := t.Dial(ctx, "udp")
	if err != nil {
		return nil, amp, err
	}
	defer conn.Close()
	// Silence is the common answer on UDP, so the wait is the grab's
	// timeout (Config.Timeout), or 3 s for a bare context.
	deadline := time.Now().Add(3 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	conn.SetWriteDeadline(deadline)
	if _, err := conn.Write(req); err != nil {
		return nil, amp, err
	}
	var out [][]byte
	kept := 0
	buf := make([]byte, 65536)
	for amp.Packets < udpMaxPackets {
		rd := deadline
		if amp.Packets > 0 {
			rd = minTime(deadline, time.Now().Add(udpIdle))
		}
		conn.SetReadDeadline(rd)
		n, err := conn.Read(buf)
		if err != nil {
			if amp.Packets > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if amp.Packets == 0 {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil, amp, ErrNoReply
				}
				return nil, amp, err
			}
			break
		}
		amp.Packets++
		amp.ResponseBytes += n
		if kept+n <= udpMaxKeep {
			out = append(out, append([]byte(nil), buf[:n]...))
			kept += n
		}
	}
	if amp.RequestBytes > 0 {
		amp.Factor = float64(amp.ResponseBytes) / float64(amp.RequestBytes)
	}
	return out, amp, nil
}

// UDPStatus maps an ExchangeUDP error to a status: silence on UDP is a
// timeout, an ICMP port unreachable shows up as a refused read.
func UDPStatus(err error) Status {
	if errors.Is(err, ErrNoReply) {
		return StatusIOTimeout
	}
	return StatusFromError(err)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
