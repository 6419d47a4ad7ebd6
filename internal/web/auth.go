package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// API key scopes.
const (
	ScopeSamplesDownload = "samples:download"
	ScopeFeedsRead       = "feeds:read"
	ScopeCheckAny        = "check:any"
)

// Scopes lists every scope a key can carry.
var Scopes = []string{ScopeSamplesDownload, ScopeFeedsRead, ScopeCheckAny}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand: " + err.Error()) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how API key secrets and session tokens are stored.
func HashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// NewAPIKey makes a key: the secret is shown once to the admin, the store
// keeps only its hash.
func NewAPIKey(name string, scopes []string, prefixes []netip.Prefix, now time.Time) (string, store.APIKey, error) {
	if name == "" || len(name) > 100 {
		return "", store.APIKey{}, errors.New("web: api key: name must be 1..100 bytes")
	}
	if len(scopes) == 0 {
		return "", store.APIKey{}, errors.New("web: api key: at least one scope")
	}
	for _, sc := range scopes {
		ok := false
		for _, k := range Scopes {
			ok = ok || sc == k
		}
		if !ok {
			return "", store.APIKey{}, fmt.Errorf("web: api key: unknown scope %q (want one of %s)", sc, strings.Join(Scopes, ", "))
		}
		if sc == ScopeCheckAny && len(prefixes) == 0 {
			return "", store.APIKey{}, errors.New("web: api key: check:any needs at least one prefix")
		}
	}
	for i, p := range prefixes {
		prefixes[i] = p.Masked()
	}
	secret := "ks_" + randomToken(32)
	k := store.APIKey{ID: randomToken(9), KeyHash: HashSecret(secret), Name: name, Scopes: scopes, Prefixes: prefixes, Created: now.UTC()}
	return secret, k, nil
}

// HashPassword hashes an admin password with bcrypt.
func HashPassword(pw string) (string, error) {
	if len(pw) < 12 || len(pw) > 72 {
		return "", errors.New("web: password must be 12..72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 12)
	if err != nil {
		return "", fmt.Errorf("web: hash password: %w", err)
	}
	return string(h), nil
}

// apiKey returns the request's valid key, or nil.
func (s *Server) apiKey(r *http.Request) (*store.APIKey, error) {
	secret := r.Header.Get("X-API-Key")
	if a := r.Header.Get("Authorization"); secret == "" && strings.HasPrefix(a, "Bearer ") {
		secret = strings.TrimPrefix(a, "Bearer ")
	}
	if secret == "" || len(secret) > 200 {
		return nil, nil
	}
	k, err := s.opts.Store.APIKeyByHash(r.Context(), HashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return k, err
}

// requireKey answers 401/403 unless the request carries a key with scope.
func (s *Server) requireKey(w http.ResponseWriter, r *http.Request, scope string) (*store.APIKey, bool) {
	k, err := s.apiKey(r)
	if err != nil {
		s.opts.Logger.Error("api key", "err", err)
		writeError(w, http.StatusInternalServerError, "key lookup failed")
		return nil, false
	}
	if k == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kansoku"`)
		writeError(w, http.StatusUnauthorized, "an API key is required (Authorization: Bearer …)")
		return nil, false
	}
	for _, sc := range k.Scopes {
		if sc == scope {
			return k, true
		}
	}
	writeError(w, http.StatusForbidden, "this API key lacks the scope "+scope)
	return nil, false
}

type ctxKey int

const adminKey ctxKey = 1

// adminFrom is the logged-in admin session of the request, if any.
func adminFrom(r *http.Request) *store.AdminSession {
	s, _ := r.Context().Value(adminKey).(*store.AdminSession)
	return s
}

const sessionCookie = "kansoku_admin"

// adminSession loads the session named by the cookie.
func (s *Server) adminSession(r *http.Request) *store.AdminSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) > 100 {
		return nil
	}
	sess, err := s.opts.Store.AdminSession(r.Context(), HashSecret(c.Value), time.Now())
	if err != nil {
		return nil
	}
	return sess
}

// withAdmin runs h only for a logged-in admin, and for POSTs only with the
// session's CSRF token.
func (s *Server) withAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.adminSession(r)
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
				http.Error(w, "bad or missing CSRF token", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), adminKey, sess)))
	}
}
