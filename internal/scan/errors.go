package scan

import "errors"

// Sentinel errors callers may test with errors.Is.
var (
	// ErrNotTarget is returned for a dial outside the target list or inside
	// the exclude list: the last line of defence for "scan only what is
	// listed".
	ErrNotTarget = errors.New("scan: address is not a permitted target")
	// ErrCheckpointMismatch means a checkpoint belongs to another target space.
	ErrCheckpointMismatch = errors.New("scan: checkpoint is for another target space")
	// ErrProtocol marks a reply that does not parse as the expected protocol;
	// StatusFromError reports it as protocol-error.
	ErrProtocol = errors.New("protocol error")
	// ErrNoReply is the error of a UDP probe nobody answered.
	ErrNoReply = errors.New("no reply")
	// ErrNoRawSocket means SYN mode was asked for without raw sockets
	// (not Linux, or no CAP_NET_RAW).
	ErrNoRawSocket = errors.New("scan: syn mode needs Linux and CAP_NET_RAW (raw sockets)")
)
