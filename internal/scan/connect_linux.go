//go:build linux

package scan

import (
	"net/netip"
	"syscall"
)

// connectResult is the outcome of a fast connect attempt.
type connectResult int

const (
	connectPending connectResult = iota // not known yet: use the full dialer
	connectOpen
	connectClosed
)

// fastConnect issues one non-blocking connect(2). Where the answer is
// immediate — on loopback and on-link networks the kernel finishes the
// handshake, or receives the RST, inside the call — it is the whole probe,
// without a poller registration, a goroutine park or a TIME_WAIT socket;
// otherwise the caller falls back to the ordinary dialer.
func fastConnect(ap netip.AddrPort) connectResult {
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if a := ap.Addr(); a.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	} else {
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return connectPending
	}
	// Linger 0: closing sends RST, so an open port leaves no TIME_WAIT.
	syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	defer syscall.Close(fd)
	switch err := syscall.Connect(fd, sa); err {
	case nil:
		return connectOpen
	case syscall.ECONNREFUSED:
		return connectClosed
	case syscall.EINPROGRESS:
		// The handshake may already be over: SO_ERROR tells without waiting.
		soerr, gerr := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if gerr != nil {
			return connectPending
		}
		switch syscall.Errno(soerr) {
		case syscall.ECONNREFUSED:
			return connectClosed
		case 0:
			if _, perr := syscall.Getpeername(fd); perr == nil {
				return connectOpen
			}
		}
	}
	return connectPending
}

const haveFastConnect = true
