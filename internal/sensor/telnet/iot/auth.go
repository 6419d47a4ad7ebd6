package iot

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

//go:embed credentials.txt
var defaultCredentials []byte

// Auth modes.
const (
	AuthList  = "list"  // accept the credentials in the list
	AuthAfter = "after" // accept anything after after_failures failed attempts from one source
	AuthAll   = "all"   // accept everything
	AuthNone  = "none"  // accept nothing (a pure credential sensor)
)

// AuthConfig is the `auth:` key of the telnet and ssh sensors.
type AuthConfig struct {
	Mode          string `yaml:"mode"`
	AfterFailures int    `yaml:"after_failures"`
	// CredentialsFile replaces the shipped list ("user:password" lines).
	CredentialsFile string `yaml:"credentials_file"`
	// FailDelay is the pause after a failed login; BusyBox login waits 3s.
	FailDelay time.Duration `yaml:"fail_delay"`
}

// DefaultAuth accepts the default credentials bots use.
func DefaultAuth() AuthConfig {
	return AuthConfig{Mode: AuthList, AfterFailures: 2, FailDelay: 3 * time.Second}
}

func (a AuthConfig) validate() error {
	switch a.Mode {
	case AuthList, AuthAfter, AuthAll, AuthNone:
	default:
		return fmt.Errorf("auth.mode: %q: want list, after, all or none", a.Mode)
	}
	if a.AfterFailures < 0 || a.AfterFailures > 1000 {
		return fmt.Errorf("auth.after_failures: %d out of range 0..1000", a.AfterFailures)
	}
	if a.FailDelay < 0 || a.FailDelay > time.Minute {
		return fmt.Errorf("auth.fail_delay: %s out of range 0..1m", a.FailDelay)
	}
	return nil
}

// Credential is one accepted user/password pair; Any accepts every password.
type Credential struct {
	User, Password string
	Any            bool
}

// ParseCredentials reads "user:password" lines; '#' starts a comment line,
// a password of "*" accepts any password.
func ParseCredentials(r io.Reader) ([]Credential, error) {
	var out []Credential
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want user:password", n)
		}
		out = append(out, Credential{User: u, Password: p, Any: p == "*"})
		if len(out) > 100000 {
			return nil, fmt.Errorf("line %d: more than 100000 credentials", n)
		}
	}
	return out, sc.Err()
}

// DefaultCredentials returns the shipped list.
func DefaultCredentials() []Credential {
	c, _ := ParseCredentials(bytes.NewReader(defaultCredentials))
	return c
}

// Bound on remembered sources for the "after" mode.
const maxSources = 65536

// Policy decides which login attempts succeed. Failures are counted per
// source address across sessions, because bots such as Mirai try one
// credential per connection.
type Policy struct {
	cfg   AuthConfig
	creds map[string]bool // user\x00password
	any   map[string]bool // users accepted with any password

	mu       sync.Mutex
	failures map[netip.Addr]int
}

// NewPolicy builds the policy, reading cfg.CredentialsFile if set.
func NewPolicy(cfg AuthConfig) (*Policy, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	list := DefaultCredentials()
	if cfg.CredentialsFile != "" {
		f, err := os.Open(cfg.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("auth.credentials_file: %w", err)
		}
		defer f.Close()
		list, err = ParseCredentials(io.LimitReader(f, 16<<20))
		if err != nil {
			return nil, fmt.Errorf("auth.credentials_file: %s: %w", cfg.CredentialsFile, err)
		}
	}
	p := &Policy{cfg: cfg, creds: map[string]bool{}, any: map[string]bool{}, failures: map[netip.Addr]int{}}
	for _, c := range list {
		if c.Any {
			p.any[c.User] = true
		} else {
			p.creds[c.User+"\x00"+c.Password] = true
		}
	}
	return p, nil
}

// Check decides one attempt from src and records it.
func (p *Policy) Check(src netip.Addr, user, password string) bool {
	var ok bool
	switch p.cfg.Mode {
	case AuthAll:
		ok = true
	case AuthNone:
		ok = false
	case AuthList:
		ok = p.any[user] || p.creds[user+"\x00"+password]
	case AuthAfter:
		p.mu.Lock()
		ok = p.failures[src] >= p.cfg.AfterFailures
		if ok {
			delete(p.failures, src)
		} else {
			if len(p.failures) >= maxSources {
				clear(p.failures) // a flood of sources: forget rather than grow
			}
			p.failures[src]++
		}
		p.mu.Unlock()
	}
	return ok
}

// FailDelay is the pause after a failed attempt.
func (p *Policy) FailDelay() time.Duration { return p.cfg.FailDelay }
