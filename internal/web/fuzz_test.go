package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseEventQuery(f *testing.F) {
	for _, s := range []string{"", "limit=10&order=asc", "since=2026-11-01T00:00:00Z&until=1700000000", "src_ip=::ffff:127.0.0.1", "kind=login.failed&cursor=MTI", "limit=0", "x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseEventQuery(v)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad ") {
				t.Fatalf("error without the parameter: %v", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > 1000 || (!q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since)) {
			t.Fatalf("accepted %+v", q)
		}
	})
}

func FuzzParseListQuery(f *testing.F) {
	for _, s := range []string{"", "since=1700000000&limit=5", "cursor=MTA&limit=1000", "limit=1001", "since=-5", "limit=1&limit=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseListQuery(v)
		if err == nil && (q.Limit < 1 || q.Limit > 1000 || len(q.After) > 512) {
			t.Fatalf("accepted %+v", q)
		}
	})
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", strings.Repeat("a", 64), strings.Repeat("B", 32), "http://127.0.0.5/x.sh", "", "word", "<script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		typ, norm, err := ParseSearch(q)
		if err != nil {
			return
		}
		switch typ {
		case "ip", "url":
		case "hash":
			if !hashRE.MatchString(norm) {
				t.Fatalf("hash %q", norm)
			}
		default:
			t.Fatalf("type %q", typ)
		}
		if len(norm) > 2048 || norm == "" {
			t.Fatalf("norm %q", norm)
		}
	})
}

func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "ja-JP,ja;q=0.9,en;q=0.8", "en;q=bogus", "*", "ja;q=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if l := acceptLanguage(h); !known(l) || !utf8.ValidString(l) {
			t.Fatalf("language %q", l)
		}
	})
}

func FuzzParseAttackQuery(f *testing.F) {
	for _, s := range []string{"", "victim=127.0.0.1&limit=5", "victim=127.0.0.0/8&protocol=ntp", "victim=::ffff:127.0.0.1", "limit=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseAttackQuery(v)
		if err == nil && (q.Limit < 1 || q.Limit > 1000 || (q.Victim.IsValid() && q.Victim != q.Victim.Masked())) {
			t.Fatalf("accepted %+v", q)
		}
	})
}

func FuzzParseHostQuery(f *testing.F) {
	for _, s := range []string{"", "prefix=127.0.0.0/8&class=critical", "ip=::ffff:127.0.0.1", "prefix=127.0.0.1&ip=127.0.0.1", "since=7d&limit=1000", "finding=open-reflector:ntp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseHostQuery(v)
		if err != nil {
			return
		}
		if q.Limit < 1 || q.Limit > 1000 || q.Prefix.IsValid() && (q.Prefix != q.Prefix.Masked() || q.IP.IsValid()) ||
			q.IP.IsValid() && (q.IP.Is4In6() || q.IP.Zone() != "") {
			t.Fatalf("accepted %+v", q)
		}
	})
}
