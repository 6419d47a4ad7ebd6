package store

import (
	"errors"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, seq := range []int64{0, 1, 1 << 40} {
		got, err := DecodeCursor(EncodeCursor(seq))
		if err != nil || got != seq {
			t.Errorf("%d: got %d, %v", seq, got, err)
		}
	}
	h := HostCursor{Critical: true, LastSeen: 1700000000123456789, IP: "::1", Port: 443, Transport: "tcp"}
	if got, err := DecodeHostCursor(h.Encode()); err != nil || got != h {
		t.Errorf("host cursor: got %+v, %v", got, err)
	}
}

// TestBadCursors: whatever a client sends, a cursor the store did not
// issue is ErrBadCursor, never a page from somewhere else.
func TestBadCursors(t *testing.T) {
	for _, c := range []string{"", "!!", EncodeCursor(1) + "=", "LTE" /* -1 */, HostCursor{IP: "127.0.0.1"}.Encode()} {
		if _, err := DecodeCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeCursor(%q): %v", c, err)
		}
	}
	for _, c := range []string{
		EncodeCursor(5),
		HostCursor{IP: "not-an-address", Transport: "tcp"}.Encode(),
		"MiAxIDEyNy4wLjAuMSA4MCB0Y3A", // "2 1 127.0.0.1 80 tcp": critical is 0 or 1
		"MCAxIDEyNy4wLjAuMSA4MA",      // four fields
	} {
		if _, err := DecodeHostCursor(c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("DecodeHostCursor(%q): %v", c, err)
		}
	}
}
