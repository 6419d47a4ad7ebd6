package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkParams rejects parameters the endpoint does not know, repeated ones
// and overlong ones, naming the first it finds.
func checkParams(v url.Values, allowed ...string) error {
	for k, vals := range v {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return errBadQuery{k, "unknown parameter"}
		}
		if len(vals) > 1 {
			return errBadQuery{k, "given more than once"}
		}
		if len(vals[0]) > 512 {
			return errBadQuery{k, "too long"}
		}
	}
	return nil
}

// parseLimit reads a page size: 100 when empty, else 1..1000.
func parseLimit(s string) (int, error) {
	if s == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		return 0, errBadQuery{"limit", "must be 1..1000"}
	}
	return n, nil
}

// listParams are what every paged list endpoint takes.
type listParams struct {
	Since time.Time
	After string
	Limit int
}

// parseListParams checks v against since, cursor, limit and the endpoint's
// own parameters, and parses the shared three.
func parseListParams(v url.Values, own ...string) (listParams, error) {
	var p listParams
	if err := checkParams(v, append([]string{"since", "cursor", "limit"}, own...)...); err != nil {
		return p, err
	}
	var err error
	if p.Since, err = parseTime(v.Get("since")); err != nil {
		return p, errBadQuery{"since", err.Error()}
	}
	if p.Limit, err = parseLimit(v.Get("limit")); err != nil {
		return p, err
	}
	p.After = v.Get("cursor")
	return p, nil
}

// maxAgo bounds relative times: a century back is already before any data.
const maxAgo = 100 * 365 * 24 * time.Hour

// parseTime accepts RFC 3339, Unix seconds, or a duration back from now
// ("24h", "90m", "7d").
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1<<36 {
			return time.Time{}, errors.New("out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if d, ok := parseAgo(s); ok {
		return time.Now().UTC().Add(-d), nil
	}
	return time.Time{}, errors.New("want RFC 3339, Unix seconds or a duration like 24h or 7d")
}

// parseAgo reads a positive Go duration or a whole number of days.
func parseAgo(s string) (time.Duration, bool) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > int(maxAgo/(24*time.Hour)) {
			return 0, false
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, false
		}
	}
	return d, d > 0 && d <= maxAgo
}
