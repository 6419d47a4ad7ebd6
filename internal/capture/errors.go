package capture

import (
	"context"
	"errors"
	"net"
	"os"
)

// Kind classifies a failed fetch; the values appear in download.failed
// events and the URL table.
type Kind string

// Error kinds.
const (
	KindRefused     Kind = "refused-address" // the policy refused an address or redirect
	KindTimeout     Kind = "timeout"
	KindTooLarge    Kind = "too-large"
	KindHTTPStatus  Kind = "http-status"  // HTTP status outside 2xx
	KindRemote      Kind = "remote-error" // TFTP ERROR packet or FTP 4xx/5xx reply
	KindDNS         Kind = "dns"
	KindConnection  Kind = "connection"
	KindRateLimited Kind = "rate-limited"
	KindBadURL      Kind = "bad-url"  // unparsable URL or unsupported scheme
	KindProtocol    Kind = "protocol" // the server broke its protocol
)

// Error is what Fetch returns on failure.
type Error struct {
	Kind Kind
	URL  string
	Err  error
}

func (e *Error) Error() string {
	return "capture: fetch " + e.URL + ": " + string(e.Kind) + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a Fetch error ("" for nil, connection for
// errors that are not *Error).
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return KindConnection
}

// errRefused marks policy refusals deep inside dialers and redirects.
var errRefused = errors.New("address refused by capture policy")

type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func withKind(k Kind, err error) error { return &kindError{k, err} }

// classify maps an error from the network stack to a Kind.
func classify(err error) Kind {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	if errors.Is(err, errRefused) {
		return KindRefused
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return KindTimeout
		}
		return KindDNS
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return KindTimeout
	}
	return KindConnection
}
