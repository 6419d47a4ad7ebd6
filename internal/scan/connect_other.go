//go:build !linux

package scan

import (
	"context"
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
