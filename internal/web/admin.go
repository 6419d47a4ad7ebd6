package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/store"
	"golang.org/x/crypto/bcrypt"
)

const (
	loginCSRFCookie = "kansoku_login_csrf"
	sessionTTL      = 8 * time.Hour
)

// dummyHash keeps a login for an unknown user as slow as for a known one.
// It is made on first use: hashing at cost 12 takes a quarter of a second,
// which every kansoku command would otherwise pay at start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("kansoku-no-such-user"), 12)
	return h
})

func (s *Server) adminRoutes() {
	s.mux.HandleFunc("GET /admin/login", s.pageLogin)
	s.mux.HandleFunc("POST /admin/login", s.postLogin)
	s.mux.HandleFunc("GET /admin", s.withAdmin(s.pageAdmin))
	s.mux.HandleFunc("POST /admin/logout", s.withAdmin(s.postLogout))
	s.mux.HandleFunc("POST /admin/apikeys", s.withAdmin(s.postAPIKey))
	s.mux.HandleFunc("POST /admin/apikeys/{id}/revoke", s.withAdmin(s.postRevoke))
	s.mux.HandleFunc("POST /admin/subscriptions", s.withAdmin(s.postSubscription))
	s.mux.HandleFunc("POST /admin/subscriptions/{id}/delete", s.withAdmin(s.postDeleteSubscription))
	s.reviewRoutes()
}

func secureCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: maxAge, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
}

type loginView struct {
	Token string
	Bad   bool
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	tok := randomToken(24)
	http.SetCookie(w, secureCookie(loginCSRFCookie, tok, 600))
	s.render(w, r, http.StatusOK, "login.html", "admin.login", loginView{Token: tok, Bad: r.URL.Query().Get("bad") == "1"})
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "bad or missing CSRF token", http.StatusForbidden)
		return
	}
	ip := s.ClientIP(r)
	if !s.logins.allow(ip, time.Now()) {
		http.Error(w, "too many login attempts; try again later", http.StatusTooManyRequests)
		return
	}
	user, pw := r.PostFormValue("user"), r.PostFormValue("password")
	hash, err := s.opts.Store.UserHash(r.Context(), user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.opts.Logger.Error("login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err != nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		s.audit(r.Context(), user, "login.failed", ip.String())
		http.Redirect(w, r, "/admin/login?bad=1", http.StatusSeeOther)
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) != nil {
		s.audit(r.Context(), user, "login.failed", ip.String())
		http.Redirect(w, r, "/admin/login?bad=1", http.StatusSeeOther)
		return
	}
	tok := randomToken(32)
	sess := store.AdminSession{TokenHash: HashSecret(tok), User: user, CSRF: randomToken(24), Expires: time.Now().Add(sessionTTL)}
	if err := s.opts.Store.CreateAdminSession(r.Context(), sess); err != nil {
		s.opts.Logger.Error("login", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, secureCookie(loginCSRFCookie, "", -1))
	http.SetCookie(w, secureCookie(sessionCookie, tok, int(sessionTTL/time.Second)))
	s.audit(r.Context(), user, "login", ip.String())
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) audit(ctx context.Context, actor, action, detail string) {
	if err := s.opts.Store.Audit(ctx, actor, action, detail); err != nil {
		s.opts.Logger.Error("audit", "err", err)
	}
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	sess := adminFrom(r)
	_ = s.opts.Store.DeleteAdminSession(r.Context(), sess.TokenHash)
	http.SetCookie(w, secureCookie(sessionCookie, "", -1))
	s.audit(r.Context(), sess.User, "logout", "")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

type adminView struct {
	User          string
	NewKey        string
	Keys          []store.APIKey
	Audit         []store.AuditEntry
	Subscriptions []alert.Subscription
	DeadLetters   []alert.Delivery
	Alerts        bool
	Scopes        []string
	Kinds         []string
	Error         string
}

func (s *Server) pageAdmin(w http.ResponseWriter, r *http.Request) {
	s.renderAdmin(w, r, "", "")
}

func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, newKey, errMsg string) {
	v := adminView{User: adminFrom(r).User, NewKey: newKey, Scopes: Scopes, Kinds: alert.Kinds, Error: errMsg, Alerts: s.opts.Alerts != nil}
	var err error
	if v.Keys, err = s.opts.Store.APIKeys(r.Context()); err == nil {
		v.Audit, err = s.opts.Store.AuditLog(r.Context(), 100)
	}
	if err == nil {
		v.Subscriptions, err = s.subscriptions(r.Context())
	}
	if err != nil {
		s.opts.Logger.Error("admin", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s.opts.Alerts != nil {
		v.DeadLetters = s.opts.Alerts.DeadLetters()
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "admin.html", "admin.title", v)
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("bad prefix %q", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (s *Server) postAPIKey(w http.ResponseWriter, r *http.Request) {
	prefixes, err := parsePrefixes(r.PostFormValue("prefixes"))
	if err != nil {
		s.renderAdmin(w, r, "", err.Error())
		return
	}
	secret, k, err := NewAPIKey(r.PostFormValue("name"), r.PostForm["scope"], prefixes, time.Now())
	if err != nil {
		s.renderAdmin(w, r, "", err.Error())
		return
	}
	if err := s.opts.Store.CreateAPIKey(r.Context(), k); err != nil {
		s.opts.Logger.Error("admin", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.audit(r.Context(), adminFrom(r).User, "apikey.create", k.ID+" "+k.Name+" "+strings.Join(k.Scopes, ","))
	s.renderAdmin(w, r, secret, "")
}

func (s *Server) postRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opts.Store.RevokeAPIKey(r.Context(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.opts.Logger.Error("admin", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.audit(r.Context(), adminFrom(r).User, "apikey.revoke", id)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

// subscriptions are the stored subscriptions, webhook secrets included.
func (s *Server) subscriptions(ctx context.Context) ([]alert.Subscription, error) {
	bodies, err := s.opts.Store.SubscriptionBodies(ctx)
	if err != nil {
		return nil, err
	}
	return alert.DecodeStored(bodies)
}

// loadSubscriptions hands the stored subscriptions to the dispatcher.
func (s *Server) loadSubscriptions(ctx context.Context) error {
	if s.opts.Alerts == nil {
		return nil
	}
	subs, err := s.subscriptions(ctx)
	if err != nil {
		return err
	}
	s.opts.Alerts.SetSubscriptions(subs)
	return nil
}

func (s *Server) postSubscription(w http.ResponseWriter, r *http.Request) {
	sub := alert.Subscription{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"), Verified: r.PostFormValue("verified") == "on"}
	var err error
	if sub.Prefixes, err = parsePrefixes(r.PostFormValue("prefixes")); err != nil {
		s.renderAdmin(w, r, "", err.Error())
		return
	}
	for _, f := range strings.Fields(strings.ReplaceAll(r.PostFormValue("asns"), ",", " ")) {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(f), "AS"), 10, 32)
		if err != nil {
			s.renderAdmin(w, r, "", "bad ASN "+f)
			return
		}
		sub.ASNs = append(sub.ASNs, uint32(n))
	}
	sub.Kinds = r.PostForm["kind"]
	secret := r.PostFormValue("secret")
	if u := strings.TrimSpace(r.PostFormValue("webhook")); u != "" {
		sub.Webhook = &alert.Webhook{URL: u, Secret: secret}
	}
	if m := strings.Fields(strings.ReplaceAll(r.PostFormValue("mail"), ",", " ")); len(m) > 0 {
		sub.Mail = &alert.Mail{To: m}
	}
	if err := sub.Validate(); err != nil {
		s.renderAdmin(w, r, "", err.Error())
		return
	}
	body, _ := json.Marshal(alert.Stored{Sub: sub, Secret: secret})
	if err := s.opts.Store.PutSubscription(r.Context(), sub.ID, body); err != nil {
		s.opts.Logger.Error("admin", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.audit(r.Context(), adminFrom(r).User, "subscription.put", sub.ID)
	if err := s.loadSubscriptions(r.Context()); err != nil {
		s.opts.Logger.Error("admin", "err", err)
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) postDeleteSubscription(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.opts.Store.DeleteSubscription(r.Context(), id); err != nil {
		s.opts.Logger.Error("admin", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.audit(r.Context(), adminFrom(r).User, "subscription.delete", id)
	if err := s.loadSubscriptions(r.Context()); err != nil {
		s.opts.Logger.Error("admin", "err", err)
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}
