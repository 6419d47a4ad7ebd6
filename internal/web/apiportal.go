package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// ParseListQuery turns since/cursor/limit parameters into a store query;
// anything else, repeated or malformed, is an error naming it.
func ParseListQuery(v url.Values, extra ...string) (store.ListQuery, error) {
	p, err := parseListParams(v, extra...)
	return store.ListQuery{Since: p.Since, After: p.After, Limit: p.Limit}, err
}

// nextCursor is the cursor after a full page, "" after the last one.
func nextCursor(n, limit int, last string) string {
	if n == limit {
		return last
	}
	return ""
}

// page is one page of a list for JSON: never null, and the cursor of the
// next page ("" after the last).
func page[T any](list []T, limit int, cursor func(T) string) ([]T, string) {
	if list == nil {
		return []T{}, ""
	}
	return list, nextCursor(len(list), limit, cursor(list[len(list)-1]))
}

func (s *Server) apiSamples(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := s.opts.Store.Samples(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	list, next := page(list, q.Limit, func(x store.Sample) string { return x.Cursor })
	writeJSON(w, http.StatusOK, map[string]any{"samples": list, "next": next})
}

func (s *Server) apiSample(w http.ResponseWriter, r *http.Request) {
	sha := strings.ToLower(r.PathValue("sha256"))
	if !sha256RE.MatchString(sha) {
		writeError(w, http.StatusBadRequest, "bad sha256: want 64 hex digits")
		return
	}
	v, err := s.loadSample(r.Context(), sha)
	if s.apiErr(w, err) {
		return
	}
	status := "unknown"
	if v.Report != nil {
		status = v.Report.Status
	}
	writeJSON(w, http.StatusOK, map[string]any{"sample": v.Sample, "status": status, "report": v.Report})
}

func (s *Server) apiSampleDownload(w http.ResponseWriter, r *http.Request) {
	sha := strings.ToLower(r.PathValue("sha256"))
	if !sha256RE.MatchString(sha) {
		writeError(w, http.StatusBadRequest, "bad sha256: want 64 hex digits")
		return
	}
	c, ok := s.allow(w, r, access.Sample)
	if !ok {
		return
	}
	if s.opts.Bus == nil {
		writeError(w, http.StatusServiceUnavailable, "sample storage not connected")
		return
	}
	data, err := s.opts.Bus.Get(r.Context(), bus.SamplesBucket, sha)
	if errors.Is(err, bus.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if err != nil {
		s.opts.Logger.Error("sample download", "err", err)
		writeError(w, http.StatusInternalServerError, "fetch failed")
		return
	}
	var buf bytes.Buffer
	if err := WriteEncryptedZip(&buf, sha, data, SamplePassword, time.Now()); err != nil {
		s.opts.Logger.Error("sample zip", "err", err)
		writeError(w, http.StatusInternalServerError, "zip failed")
		return
	}
	s.audit(r.Context(), auditName(c), "sample.download", sha)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+sha+`.zip"`)
	w.Write(buf.Bytes())
}

func (s *Server) apiURLs(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := s.opts.Store.URLs(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	list, next := page(list, q.Limit, func(x store.URL) string { return x.Cursor })
	writeJSON(w, http.StatusOK, map[string]any{"urls": list, "next": next})
}

func (s *Server) apiC2s(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := s.opts.Store.C2s(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	list, next := page(list, q.Limit, func(x store.C2) string { return x.Cursor })
	writeJSON(w, http.StatusOK, map[string]any{"c2s": list, "next": next})
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !sessionIDRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, "bad session id")
		return
	}
	c, ok := s.caller(w, r)
	if !ok {
		return
	}
	v, err := s.loadSession(r.Context(), c, id)
	if s.apiErr(w, err) {
		return
	}
	if v.Events == nil {
		v.Events = []*event.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"session": v.Session, "events": v.Events})
}

// maxRecording bounds what the replay endpoint serves.
const maxRecording = 16 << 20

func (s *Server) apiRecording(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !sessionIDRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, "bad session id")
		return
	}
	if s.opts.Bus == nil {
		writeError(w, http.StatusNotFound, "no recordings stored here")
		return
	}
	data, err := s.opts.Bus.Get(r.Context(), bus.RecordingsBucket, id)
	if errors.Is(err, bus.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	if err != nil {
		s.opts.Logger.Error("recording", "err", err)
		writeError(w, http.StatusInternalServerError, "fetch failed")
		return
	}
	if len(data) > maxRecording {
		data = data[:maxRecording]
	}
	// Served as text, never as HTML: it holds attacker bytes.
	w.Header().Set("Content-Type", "application/x-asciicast")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.cast"`)
	w.Write(data)
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	for k, vals := range v {
		if k != "q" {
			writeError(w, http.StatusBadRequest, errBadQuery{k, "unknown parameter"}.Error())
			return
		}
		if len(vals) > 1 {
			writeError(w, http.StatusBadRequest, errBadQuery{k, "given more than once"}.Error())
			return
		}
	}
	res, err := s.search(r.Context(), v.Get("q"))
	var bad errBadQuery
	if errors.As(err, &bad) {
		writeError(w, http.StatusBadRequest, bad.Error())
		return
	}
	if s.apiErr(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}
