//go:build !linux

package scan

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

type connectResult int

const (
	connectPending connectResult = iota
	connectOpen
	connectClosed
)

func fastConnect(netip.AddrPort) connectResult { return connectPending }

const haveFastConnect = false

type synProber struct{}

func newSYNProber() (*synProber, error) { return nil, ErrNoRawSocket }

func (*synProber) close() {}

func (*synProber) probe(context.Context, netip.AddrPort, time.Duration) error { return ErrNoRawSocket }

// ErrNoRawSocket means SYN mode was asked for where it is unavailable.
var ErrNoRawSocket = errors.New("scan: syn mode needs Linux and CAP_NET_RAW (raw sockets)")
