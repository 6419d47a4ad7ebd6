package web

import (
	"net/http"
	"strconv"

	"github.com/kansoku/kansoku/internal/store"
)

// The indicator review queue: URLs and C2s that the sandbox saw but
// nothing corroborated (store.Provenance) wait here, out of the public API
// and feeds, until an admin publishes or rejects them.

func (s *Server) reviewRoutes() {
	s.mux.HandleFunc("GET /admin/indicators", s.withAdmin(s.apiReviewQueue))
	s.mux.HandleFunc("POST /admin/indicators/review", s.withAdmin(s.postReview))
}

// apiReviewQueue lists URLs and C2s in one review state (?review=,
// default pending); ?kind=url or c2 lists one of them, which ?cursor=
// pages like the public lists.
func (s *Server) apiReviewQueue(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query(), "review", "kind")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q.Review = r.URL.Query().Get("review")
	if q.Review == "" {
		q.Review = store.ReviewPending
	}
	if store.CheckReview("url", q.Review) != nil && q.Review != store.ReviewAllowlisted {
		writeError(w, http.StatusBadRequest, "review must be pending, published, rejected or allowlisted")
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != "" && kind != "url" && kind != "c2" || kind == "" && q.After != "" {
		writeError(w, http.StatusBadRequest, "kind must be url or c2 (and is needed with cursor)")
		return
	}
	urls, c2s := []store.URL{}, []store.C2{}
	if kind != "c2" {
		if urls, err = s.opts.Store.URLs(r.Context(), q); s.apiErr(w, err) {
			return
		}
	}
	if kind != "url" {
		if c2s, err = s.opts.Store.C2s(r.Context(), q); s.apiErr(w, err) {
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"review": q.Review, "urls": urls, "c2s": c2s, "csrf": adminFrom(r).CSRF})
}

// postReview sets one indicator's state: kind (url, c2), value (the URL,
// or the C2's host), port (C2s), state (published, pending, rejected).
func (s *Server) postReview(w http.ResponseWriter, r *http.Request) {
	kind, value, state := r.PostFormValue("kind"), r.PostFormValue("value"), r.PostFormValue("state")
	port := 0
	if kind == "c2" {
		p, err := strconv.Atoi(r.PostFormValue("port"))
		if err != nil || p < 1 || p > 65535 {
			writeError(w, http.StatusBadRequest, "port must be 1..65535")
			return
		}
		port = p
	}
	if err := store.CheckReview(kind, state); err != nil || value == "" {
		writeError(w, http.StatusBadRequest, "kind must be url or c2, state published, pending or rejected, value set")
		return
	}
	if s.apiErr(w, s.opts.Store.ReviewIndicator(r.Context(), kind, value, uint16(port), state)) {
		return
	}
	s.audit(r.Context(), adminFrom(r).User, "indicator."+state, kind+" "+value+" "+strconv.Itoa(port))
	writeJSON(w, http.StatusOK, map[string]any{"kind": kind, "value": value, "port": port, "review": state})
}
