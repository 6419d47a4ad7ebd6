package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/icsreport"
	"github.com/kansoku/kansoku/internal/store"
)

// The ICS view reads the newest ics.* events of a window (7 days by
// default) through the events query, at most maxICSEvents of each kind.
const (
	icsDays      = 7
	maxICSEvents = 20000
)

func parseICSQuery(v url.Values, now time.Time) (time.Time, error) {
	if err := checkParams(v, "since", "lang"); err != nil {
		return time.Time{}, err
	}
	since, err := parseTime(v.Get("since"))
	if err != nil {
		return since, errBadQuery{"since", err.Error()}
	}
	if since.IsZero() {
		since = now.Add(-icsDays * 24 * time.Hour)
	}
	return since, nil
}

type icsView struct {
	Since     string
	Truncated bool
	*icsreport.Report
}

// icsReport builds the report of the window; truncated tells that a kind
// had more events than were read.
func (s *Server) icsReport(ctx context.Context, since time.Time) (*icsView, error) {
	var evs []*event.Event
	truncated := false
	for _, kind := range []string{"ics.write", "ics.read", "ics.identify"} {
		q := store.EventQuery{Honeypot: "ics", Kind: kind, Since: since, Limit: 1000}
		n := 0
		for {
			page, err := s.opts.Store.Events(ctx, q)
			if err != nil {
				return nil, err
			}
			evs = append(evs, page.Events...)
			n += len(page.Events)
			if page.Next == "" {
				break
			}
			if n >= maxICSEvents {
				truncated = true
				break
			}
			q.After = page.Next
		}
	}
	return &icsView{Since: since.UTC().Format(time.RFC3339), Truncated: truncated, Report: icsreport.Build(evs)}, nil
}

func (s *Server) apiICS(w http.ResponseWriter, r *http.Request) {
	since, err := parseICSQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := s.icsReport(r.Context(), since)
	if s.apiErr(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": v.Since, "truncated": v.Truncated, "events": v.Events, "sites": v.Sites})
}

// pageICS shows, per site of the infrastructure honeypot, who read and
// who wrote what.
func (s *Server) pageICS(w http.ResponseWriter, r *http.Request) {
	since, err := parseICSQuery(r.URL.Query(), time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v, err := s.icsReport(r.Context(), since)
	if s.pageErr(w, err) {
		return
	}
	s.render(w, r, http.StatusOK, "ics.html", "ics.title", v)
}
