package intel

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

type attempt struct {
	at             time.Duration
	src            string
	user, password string
	domain         string // NTLM logons: no password
}

func logons(service string, as []attempt) []*event.Event {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var out []*event.Event
	for _, a := range as {
		e := event.New(service, "login.failed")
		e.Time, e.SrcIP = t0.Add(a.at), netip.MustParseAddr(a.src)
		e.SetText("username", a.user)
		if a.domain != "" {
			e.SetText("domain", a.domain).Set("method", "ntlm")
		} else {
			e.SetText("password", a.password).Set("method", "password")
		}
		out = append(out, e)
	}
	return out
}

// spray tries each password against n users, one attempt each, from
// rotating sources, a minute apart.
func spray(n int, passwords []string, sources []string, from time.Duration) []attempt {
	var out []attempt
	i := 0
	for _, p := range passwords {
		for u := range n {
			out = append(out, attempt{at: from + time.Duration(i)*time.Minute, src: sources[i%len(sources)], user: fmt.Sprintf("u%02d", u), password: p})
			i++
		}
	}
	return out
}

func TestDetectSpraying(t *testing.T) {
	src := []string{"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"}
	var brute []attempt
	for i := range 200 {
		brute = append(brute, attempt{at: time.Duration(i) * time.Second, src: "127.0.0.20", user: "admin", password: fmt.Sprintf("pw%d", i)})
	}
	var ntlm []attempt
	for u := range 15 {
		ntlm = append(ntlm, attempt{at: time.Duration(u) * time.Minute, src: src[u%2], user: fmt.Sprintf("u%02d", u), domain: "CORP"})
	}
	later := spray(12, []string{"Spring2026!"}, src[2:], 30*time.Hour)
	tests := []struct {
		name      string
		attempts  []attempt
		campaigns int
		passwords int
		users     int
		sources   int
		domain    string
	}{
		{"two passwords one campaign", spray(30, []string{"Winter2026!", "Company123"}, src, 0), 1, 2, 30, 4, ""},
		{"brute force is not spraying", brute, 0, 0, 0, 0, ""},
		{"too few accounts", spray(5, []string{"Winter2026!"}, src, 0), 0, 0, 0, 0, ""},
		{"ntlm by domain", ntlm, 1, 0, 15, 2, "CORP"},
		{"a day apart are two campaigns", append(spray(12, []string{"Winter2026!"}, src[:2], 0), later...), 2, 1, 12, 2, ""},
		{"spraying hidden in brute force", append(spray(20, []string{"Winter2026!"}, src, 0), brute...), 1, 1, 20, 4, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cs := DetectSpraying(logons("vpn", tc.attempts), DefaultSprayOptions())
			if len(cs) != tc.campaigns {
				t.Fatalf("%d campaigns, want %d: %+v", len(cs), tc.campaigns, cs)
			}
			if tc.campaigns == 0 {
				return
			}
			c := cs[0]
			if len(c.Passwords) != tc.passwords || c.UserCount != tc.users || c.SourceCount != tc.sources || c.Service != "vpn" || c.ID == "" {
				t.Fatalf("campaign %+v", c)
			}
			if tc.domain != "" && (len(c.Domains) != 1 || c.Domains[0] != tc.domain) {
				t.Fatalf("domains %v", c.Domains)
			}
		})
	}
}
