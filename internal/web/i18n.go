package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages the portal speaks; the first is the default.
var Languages = []string{"en", "ja"}

// catalogue maps language → message key → text. Every UI string lives
// here, never in templates.
type catalogue map[string]map[string]string

func loadCatalogue() (catalogue, error) {
	c := catalogue{}
	for _, l := range Languages {
		b, err := i18nFS.ReadFile("i18n/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: messages %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: messages %s: %w", l, err)
		}
		c[l] = m
	}
	return c, nil
}

// msg returns the text for key in lang with {name} placeholders filled;
// a missing key shows itself so it is noticed, never an empty string.
func (c catalogue) msg(lang, key string, args ...string) string {
	s, ok := c[lang][key]
	if !ok {
		if s, ok = c["en"][key]; !ok {
			return key
		}
	}
	for i := 0; i+1 < len(args); i += 2 {
		s = strings.ReplaceAll(s, "{"+args[i]+"}", args[i+1])
	}
	return s
}

// pickLang chooses the language: ?lang= (remembered in a cookie), then the
// cookie, then Accept-Language, then English.
func pickLang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); known(l) {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && known(c.Value) {
		return c.Value
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func known(l string) bool {
	for _, x := range Languages {
		if l == x {
			return true
		}
	}
	return false
}

// acceptLanguage picks the best supported language from an Accept-Language
// header by quality value.
func acceptLanguage(h string) string {
	best, bestQ := "en", -1.0
	for i, part := range strings.Split(h, ",") {
		if i > 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		base, _, _ := strings.Cut(tag, "-")
		if !known(base) {
			continue
		}
		q := 1.0
		if p := strings.TrimSpace(params); strings.HasPrefix(p, "q=") {
			if _, err := fmt.Sscanf(p[2:], "%g", &q); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

var (
	defaultCatalogue catalogue
	catalogueErr     error
	catalogueOnce    sync.Once
)

// Message translates a UI string key (as listed in i18n/*.json) for lang,
// with {name} value pairs filled in; for command-line tools.
func Message(lang, key string, args ...string) string {
	catalogueOnce.Do(func() { defaultCatalogue, catalogueErr = loadCatalogue() })
	if catalogueErr != nil {
		return key
	}
	return defaultCatalogue.msg(lang, key, args...)
}
