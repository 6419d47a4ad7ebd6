package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/kansoku/kansoku/internal/event"
)

// view is what every page template gets: the language, translated
// strings through T, and the page's own data.
type view struct {
	Lang      string
	Title     string
	SwitchURL string
	CSRF      string
	Data      any
	s         *Server
}

// T translates key; args are {name} value pairs.
func (v *view) T(key string, args ...string) string { return v.s.cat.msg(v.Lang, key, args...) }

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, data any) {
	lang := pickLang(w, r)
	q := r.URL.Query()
	other := "ja"
	if lang == "ja" {
		other = "en"
	}
	q.Set("lang", other)
	v := &view{Lang: lang, SwitchURL: (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String(), Data: data, s: s}
	v.Title = v.T(titleKey)
	if sess := adminFrom(r); sess != nil {
		v.CSRF = sess.CSRF
	}
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		s.opts.Logger.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.Header().Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// detailKeys are the data fields worth a glance in event tables.
var detailKeys = []string{"username", "password", "input", "url", "sha256", "family", "protocol", "victim_ip", "packets", "service", "product", "cve", "signature", "reason", "error"}

// detail summarises an event's data for tables; the template escapes it.
func detail(e *event.Event) string {
	var parts []string
	for _, k := range detailKeys {
		v, ok := e.Data[k]
		if !ok {
			continue
		}
		var s string
		if str, ok := v.(string); ok {
			s = e.Text(k)
			if s == "" {
				s = str
			}
			s = event.EscapeInvalid(s)
		} else {
			s = fmt.Sprint(v)
		}
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		parts = append(parts, k+"="+s)
	}
	if len(parts) == 0 {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 6 {
			keys = keys[:6]
		}
		return strings.Join(keys, " ")
	}
	return strings.Join(parts, " ")
}
