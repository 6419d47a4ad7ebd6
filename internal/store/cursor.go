package store

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Cursors are opaque to clients but the same in every driver, so that a
// site moving from SQLite to PostgreSQL keeps the cursor format (a client
// holding an old one still gets ErrBadCursor rather than a wrong page).

// EncodeCursor is the cursor after the row with sequence number seq: the
// insertion order that events, samples, URLs, C2s and attacks are paged in.
func EncodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10)))
}

// DecodeCursor reads a cursor made by EncodeCursor; anything else, a
// negative number included, is ErrBadCursor.
func DecodeCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrBadCursor
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 {
		return 0, ErrBadCursor
	}
	return n, nil
}

// HostCursor is the position of a host in the listing order of HostQuery:
// critical first, then last seen, address, port and transport, all
// descending.
type HostCursor struct {
	Critical  bool
	LastSeen  int64  // unix nanoseconds
	IP        string // the address as the driver stores it, compared as such
	Port      int64
	Transport string
}

// Encode is the cursor to pass as HostQuery.After.
func (c HostCursor) Encode() string {
	crit := 0
	if c.Critical {
		crit = 1
	}
	s := fmt.Sprintf("%d %d %s %d %s", crit, c.LastSeen, c.IP, c.Port, c.Transport)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// DecodeHostCursor reads a cursor made by HostCursor.Encode; anything else
// is ErrBadCursor. The address must parse, so that a driver can bind it as
// one.
func DecodeHostCursor(s string) (HostCursor, error) {
	var c HostCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, ErrBadCursor
	}
	f := strings.Split(string(b), " ")
	if len(f) != 5 {
		return c, ErrBadCursor
	}
	crit, e1 := strconv.Atoi(f[0])
	var e2, e3, e4 error
	c.LastSeen, e2 = strconv.ParseInt(f[1], 10, 64)
	_, e3 = netip.ParseAddr(f[2])
	c.Port, e4 = strconv.ParseInt(f[3], 10, 64)
	c.Critical, c.IP, c.Transport = crit == 1, f[2], f[4]
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil || (crit != 0 && crit != 1) {
		return c, ErrBadCursor
	}
	return c, nil
}
