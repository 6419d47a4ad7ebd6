// Package alert delivers alerts to subscribers when kansoku sees something
// about their networks: a reflection DDoS against an address they own
// (amp-victim), a host of theirs attacking our honeypots (infected-host), or
// an exposed device the scanner found (exposed-host). Deliveries are
// HMAC-signed JSON webhooks and SMTP mail, retried with exponential backoff
// and jitter, and kept in a dead-letter list when they keep failing. The
// report layouts are the per-network honeypot reports of FORMATS.md.
package alert

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Alert kinds a subscription may choose.
const (
	KindAmpVictim    = "amp-victim"
	KindInfectedHost = "infected-host"
	KindExposedHost  = "exposed-host"
)

// Kinds lists every alert kind.
var Kinds = []string{KindAmpVictim, KindInfectedHost, KindExposedHost}

// Webhook is an HTTP endpoint that receives signed JSON alerts.
type Webhook struct {
	URL    string `yaml:"url" json:"url"`
	Secret string `yaml:"secret" json:"-"`
}

// Mail is a list of recipients.
type Mail struct {
	To []string `yaml:"to" json:"to"`
}

// Subscription says who wants which alerts about which networks. Only
// verified subscriptions (the portal confirms ownership) get deliveries.
type Subscription struct {
	ID       string         `yaml:"id" json:"id"`
	Name     string         `yaml:"name" json:"name"`
	Prefixes []netip.Prefix `yaml:"prefixes" json:"prefixes,omitempty"`
	ASNs     []uint32       `yaml:"asns" json:"asns,omitempty"`
	Kinds    []string       `yaml:"kinds" json:"kinds,omitempty"` // empty: every kind
	Webhook  *Webhook       `yaml:"webhook" json:"webhook,omitempty"`
	Mail     *Mail          `yaml:"mail" json:"mail,omitempty"`
	Verified bool           `yaml:"verified" json:"verified"`
}

// Validate reports the first bad field.
func (s Subscription) Validate() error {
	if s.ID == "" {
		return errors.New("alert: subscription without id")
	}
	if len(s.Prefixes) == 0 && len(s.ASNs) == 0 {
		return fmt.Errorf("alert: subscription %s: needs prefixes or asns", s.ID)
	}
	for _, k := range s.Kinds {
		if !slices.Contains(Kinds, k) {
			return fmt.Errorf("alert: subscription %s: kind %q is not one of %v", s.ID, k, Kinds)
		}
	}
	if s.Webhook == nil && s.Mail == nil {
		return fmt.Errorf("alert: subscription %s: needs a webhook or mail", s.ID)
	}
	if s.Webhook != nil {
		u, err := url.Parse(s.Webhook.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("alert: subscription %s: webhook url %q must be http(s)", s.ID, s.Webhook.URL)
		}
		if len(s.Webhook.Secret) < 16 {
			return fmt.Errorf("alert: subscription %s: webhook secret must be at least 16 bytes", s.ID)
		}
	}
	if s.Mail != nil {
		if len(s.Mail.To) == 0 {
			return fmt.Errorf("alert: subscription %s: mail without recipients", s.ID)
		}
		for _, a := range s.Mail.To {
			if !validAddress(a) {
				return fmt.Errorf("alert: subscription %s: bad mail address %q", s.ID, a)
			}
		}
	}
	return nil
}

func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && !strings.ContainsAny(a, "\r\n<>,; \t")
}

// Matches reports whether the subscription covers addr (or its ASN) for kind.
func (s Subscription) Matches(kind string, addr netip.Addr, asn uint32) bool {
	if len(s.Kinds) > 0 && !slices.Contains(s.Kinds, kind) {
		return false
	}
	addr = addr.Unmap()
	for _, p := range s.Prefixes {
		if addr.IsValid() && p.Contains(addr) {
			return true
		}
	}
	return asn != 0 && slices.Contains(s.ASNs, asn)
}

// SMTP is the mail relay.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	StartTLS bool   `yaml:"starttls"`
}

// Config is the `alerts:` section.
type Config struct {
	Subscriptions []Subscription `yaml:"subscriptions"`
	SMTP          SMTP           `yaml:"smtp"`
	// MaxAttempts is how often a delivery is tried before it is dead-lettered.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the first retry delay; each retry doubles it (with jitter).
	Backoff time.Duration `yaml:"backoff"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Digest turns on the daily digest: each verified subscription gets the
	// previous UTC day's report about its networks. Off by default, so
	// turning on alerts never starts a second stream of mail unasked.
	Digest bool `yaml:"digest"`
	// DigestHour is the UTC hour the daily digest is sent.
	DigestHour int `yaml:"digest_hour"`
	// Workers deliver in parallel; QueueSize bounds waiting deliveries.
	Workers   int `yaml:"workers"`
	QueueSize int `yaml:"queue_size"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{SMTP: SMTP{Host: "127.0.0.1", Port: 25, From: "kansoku@localhost"}, MaxAttempts: 6, Backoff: 5 * time.Second,
		Timeout: 10 * time.Second, DigestHour: 6, Workers: 4, QueueSize: 1024}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.MaxAttempts < 1 || c.MaxAttempts > 100:
		return errors.New("alert: max_attempts must be 1..100")
	case c.Backoff <= 0:
		return errors.New("alert: backoff must be positive")
	case c.Timeout <= 0:
		return errors.New("alert: timeout must be positive")
	case c.DigestHour < 0 || c.DigestHour > 23:
		return errors.New("alert: digest_hour must be 0..23")
	case c.Workers < 1 || c.Workers > 64:
		return errors.New("alert: workers must be 1..64")
	case c.QueueSize < 1:
		return errors.New("alert: queue_size must be at least 1")
	}
	ids := map[string]bool{}
	for _, s := range c.Subscriptions {
		if err := s.Validate(); err != nil {
			return err
		}
		if ids[s.ID] {
			return fmt.Errorf("alert: duplicate subscription id %s", s.ID)
		}
		ids[s.ID] = true
		if s.Mail != nil && (c.SMTP.Host == "" || c.SMTP.From == "") {
			return fmt.Errorf("alert: subscription %s wants mail but smtp host/from are not set", s.ID)
		}
	}
	return nil
}

// Classify returns the alert kind an event raises, the address it is about
// and the report layout, or "" when it raises none.
func Classify(e *event.Event) (kind string, addr netip.Addr, layout Layout) {
	switch {
	case e.Kind == "amp.attack.start":
		return KindAmpVictim, e.SrcIP, LayoutAmp
	case e.Honeypot == "scan" || strings.HasPrefix(e.Kind, "scan."):
		return KindExposedHost, exposedAddr(e), LayoutExposure
	case strings.HasPrefix(e.Kind, "login.") || strings.HasPrefix(e.Kind, "exploit.") ||
		e.Kind == "command.input" || e.Kind == "download.ok" || e.Kind == "rpc.call":
		if e.SrcIP.IsValid() {
			return KindInfectedHost, e.SrcIP, LayoutBruteForce
		}
	}
	return "", netip.Addr{}, ""
}
