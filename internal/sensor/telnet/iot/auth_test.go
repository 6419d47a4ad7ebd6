package iot

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultCredentials(t *testing.T) {
	list := DefaultCredentials()
	if len(list) < 100 {
		t.Fatalf("only %d default credentials", len(list))
	}
	has := map[string]bool{}
	for _, c := range list {
		has[c.User+":"+c.Password] = true
	}
	// A few from Mirai's scanner.c table, and one empty password.
	for _, want := range []string{"root:xc3511", "root:vizxv", "admin:admin", "root:7ujMko0admin", "support:support", "root:", "mother:fucker"} {
		if !has[want] {
			t.Errorf("default list lacks %s", want)
		}
	}
}

func TestPolicy(t *testing.T) {
	a, b := netip.MustParseAddr("127.0.0.5"), netip.MustParseAddr("127.0.0.6")
	file := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(file, []byte("# ours\nadmin:s3cret\nguest:*\n"), 0o600)
	type try struct {
		src        netip.Addr
		user, pass string
		ok         bool
	}
	tests := []struct {
		name  string
		cfg   AuthConfig
		tries []try
	}{
		{"list", AuthConfig{Mode: AuthList}, []try{{a, "root", "xc3511", true}, {a, "root", "wrong", false}, {a, "root", "", true}, {a, "ROOT", "xc3511", false}}},
		{"file", AuthConfig{Mode: AuthList, CredentialsFile: file}, []try{{a, "admin", "s3cret", true}, {a, "root", "xc3511", false}, {a, "guest", "anything\xff", true}}},
		{"after", AuthConfig{Mode: AuthAfter, AfterFailures: 2}, []try{{a, "x", "1", false}, {b, "x", "1", false}, {a, "x", "2", false}, {a, "y", "3", true}, {a, "z", "4", false}, {b, "x", "2", false}, {b, "x", "3", true}}},
		{"all", AuthConfig{Mode: AuthAll}, []try{{a, "", "", true}, {a, "x", "y", true}}},
		{"none", AuthConfig{Mode: AuthNone}, []try{{a, "root", "xc3511", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, tr := range tc.tries {
				if got := p.Check(tr.src, tr.user, tr.pass); got != tr.ok {
					t.Errorf("try %d %s %q/%q = %v, want %v", i, tr.src, tr.user, tr.pass, got, tr.ok)
				}
			}
		})
	}
}

func TestPolicyBadConfig(t *testing.T) {
	for _, cfg := range []AuthConfig{
		{Mode: "sometimes"},
		{Mode: AuthAfter, AfterFailures: -1},
		{Mode: AuthList, CredentialsFile: "/nonexistent/creds"},
		{Mode: AuthList, FailDelay: -1},
	} {
		if _, err := NewPolicy(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	if _, err := ParseCredentials(strings.NewReader("no colon here\n")); err == nil {
		t.Error("line without colon accepted")
	}
}

func TestDropperLine(t *testing.T) {
	for line, want := range map[string]bool{
		`/bin/busybox echo -ne '\x7f\x45\x4c\x46' >> .s`: true,
		`echo -ne "\x01\x00" > /tmp/d`:                   true,
		`printf '\177ELF\001' > x`:                       true,
		`printf '\0177ELF' > x`:                          true,
		`echo hello > file`:                              false,
		`echo -ne '\x41'`:                                false,
		`/bin/busybox ECCHI`:                             false,
	} {
		if got := IsDropperLine(line); got != want {
			t.Errorf("IsDropperLine(%q) = %v, want %v", line, got, want)
		}
	}
}
