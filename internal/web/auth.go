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

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// API key scopes (the access policy's, named here for the portal's users).
const (
	ScopeSamplesDownload = access.ScopeSamplesDownload
	ScopeFeedsRead       = access.ScopeFeedsRead
	ScopeCheckAny        = access.ScopeCheckAny
)

// Scopes lists every scope a key can carry.
var Scopes = access.Scopes

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
	if secret == "" {
		secret = bearer(r.Header.Get("Authorization"))
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

// bearer returns the token of an Authorization header of the Bearer
// scheme, whose name is case-insensitive (RFC 7235 2.1), "" for others.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// credentialsSent says whether the request tries to authenticate with a key.
func credentialsSent(r *http.Request) bool {
	return r.Header.Get("X-API-Key") != "" || r.Header.Get("Authorization") != ""
}

// caller says who asks, for the access policy: a logged-in admin (on the
// /admin pages only, behind withAdmin: the session cookie is scoped to
// /admin and opens nothing elsewhere), an API key, or anonymous. A key
// that is sent but unknown is answered 401 (ok false) rather than quietly
// treated as anonymous.
func (s *Server) caller(w http.ResponseWriter, r *http.Request) (c access.Caller, ok bool) {
	if adminFrom(r) != nil {
		return access.Caller{Admin: true}, true
	}
	if !credentialsSent(r) {
		return access.Anonymous, true
	}
	k, err := s.apiKey(r)
	if err != nil {
		s.opts.Logger.Error("api key", "err", err)
		writeError(w, http.StatusInternalServerError, "key lookup failed")
		return c, false
	}
	if k == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kansoku"`)
		writeError(w, http.StatusUnauthorized, "unknown API key")
		return c, false
	}
	return access.Caller{KeyID: k.ID, Scopes: k.Scopes, Prefixes: k.Prefixes}, true
}

// deny answers a caller who may not read kind: 401 without credentials,
// 403 with a key that lacks the scope.
func deny(w http.ResponseWriter, c access.Caller, kind access.Kind) {
	sc := access.Scope(kind)
	switch {
	case c.KeyID == "" && !c.Admin && sc != "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="kansoku"`)
		writeError(w, http.StatusUnauthorized, "an API key with the scope "+sc+" is required (Authorization: Bearer …)")
	case c.KeyID == "" && !c.Admin:
		writeError(w, http.StatusUnauthorized, "this needs an admin login")
	case sc != "":
		writeError(w, http.StatusForbidden, "this API key lacks the scope "+sc)
	default:
		writeError(w, http.StatusForbidden, "this needs an admin login")
	}
}

// allow resolves the caller and answers 401/403 unless it may read kind.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, kind access.Kind) (access.Caller, bool) {
	c, ok := s.caller(w, r)
	if !ok {
		return c, false
	}
	if !c.May(kind) {
		deny(w, c, kind)
		return c, false
	}
	return c, true
}

// auditName is who the audit log says did something.
func auditName(c access.Caller) string {
	if c.Admin {
		return "admin"
	}
	return "apikey:" + c.KeyID
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
