package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// errBadQuery marks a malformed query parameter (answered with 400).
type errBadQuery struct{ param, msg string }

func (e errBadQuery) Error() string { return fmt.Sprintf("bad %s: %s", e.param, e.msg) }

// ParseEventQuery turns /api/v1/events parameters into a store query;
// every malformed or unknown parameter is an error naming it.
func ParseEventQuery(v url.Values) (store.EventQuery, error) {
	var q store.EventQuery
	p, err := parseListParams(v, "until", "sensor", "honeypot", "kind", "src_ip", "session", "order")
	if err != nil {
		return q, err
	}
	q.Since, q.After, q.Limit = p.Since, p.After, p.Limit
	if q.Until, err = parseTime(v.Get("until")); err != nil {
		return q, errBadQuery{"until", err.Error()}
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, errBadQuery{"until", "must be after since"}
	}
	q.Sensor, q.Honeypot, q.Kind, q.Session = v.Get("sensor"), v.Get("honeypot"), v.Get("kind"), v.Get("session")
	if s := v.Get("src_ip"); s != "" {
		if q.SrcIP, err = netip.ParseAddr(s); err != nil {
			return q, errBadQuery{"src_ip", "not an IP address"}
		}
		q.SrcIP = q.SrcIP.Unmap()
	}
	switch v.Get("order") {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, errBadQuery{"order", "must be asc or desc"}
	}
	return q, nil
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	q, err := ParseEventQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	// Asking for one kind of data the caller may not read is refused
	// outright; a broad query returns only what the caller may read.
	if q.Honeypot != "" || q.Kind != "" {
		if k := access.OfStream(q.Honeypot, q.Kind); !c.May(k) {
			deny(w, c, k)
			return
		}
	}
	page, err := s.opts.Store.Events(r.Context(), q)
	if err != nil {
		if errors.Is(err, store.ErrBadCursor) {
			writeError(w, http.StatusBadRequest, "bad cursor: not one this server issued")
			return
		}
		s.opts.Logger.Error("events query", "err", err)
		writeError(w, http.StatusInternalServerError, "query failed")
		return
	}
	page.Events = c.Filter(page.Events)
	if page.Events == nil {
		page.Events = []*event.Event{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	for k := range v {
		if k != "since" && k != "until" {
			writeError(w, http.StatusBadRequest, errBadQuery{k, "unknown parameter"}.Error())
			return
		}
	}
	var q store.StatsQuery
	var err error
	if q.Since, err = parseTime(v.Get("since")); err != nil {
		writeError(w, http.StatusBadRequest, errBadQuery{"since", err.Error()}.Error())
		return
	}
	if q.Until, err = parseTime(v.Get("until")); err != nil {
		writeError(w, http.StatusBadRequest, errBadQuery{"until", err.Error()}.Error())
		return
	}
	st, err := s.opts.Store.Stats(r.Context(), q)
	if err != nil {
		s.opts.Logger.Error("stats query", "err", err)
		writeError(w, http.StatusInternalServerError, "query failed")
		return
	}
	writeJSON(w, http.StatusOK, st)
}
