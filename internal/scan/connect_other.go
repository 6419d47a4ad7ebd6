//go:build !linux

package scan

import "net/netip"

type connectResult int

const (
	connectPending connectResult = iota
	connectOpen
	connectClosed
)

func fastConnect(netip.AddrPort) connectResult { return connectPending }

const haveFastConnect = false
