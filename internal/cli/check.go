package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/web"
)

func init() {
	Register(Command{Name: "check", Summary: "check IP [--days N] [--lang en|ja] [--json] (the infection check, for operators)", Run: runCheck})
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("check", stderr)
	cfgPath := fs.String("config", "", "YAML config file (store section)")
	dbPath := fs.String("db", "", "SQLite database (overrides the config)")
	days := fs.Int("days", 7, "window in days")
	lang := fs.String("lang", "en", "en or ja")
	asJSON := fs.Bool("json", false, "print the result as /api/v1/check does")
	var ipArg string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest = fs.Args()
		if len(rest) > 0 {
			if ipArg != "" {
				return fmt.Errorf("%w: check IP", ErrUsage)
			}
			ipArg, rest = rest[0], rest[1:]
		}
	}
	ip, err := netip.ParseAddr(ipArg)
	if err != nil || *days < 1 || *days > 365 || (*lang != "en" && *lang != "ja") {
		return fmt.Errorf("%w: check IP [--days 1..365] [--lang en|ja]", ErrUsage)
	}
	st, err := openStore(ctx, *cfgPath, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := web.Check(ctx, st, ip.Unmap(), time.Now(), time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	m := func(k string, a ...string) string { return web.Message(*lang, k, a...) }
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	fmt.Fprintf(stdout, "%s %s (%s — %s UTC)\n", res.IP, m("check.verdict."+res.Verdict), ts(res.Since), ts(res.Until))
	fmt.Fprintln(stdout, m("check.verdict_text."+res.Verdict))
	fmt.Fprintln(stdout, m("check.shared"))
	for _, sec := range []struct {
		key string
		f   []web.Finding
	}{{"check.activity", res.Activity}, {"check.attacks", res.Attacks}, {"check.exposed", res.Exposed}} {
		if len(sec.f) == 0 {
			continue
		}
		fmt.Fprintf(stdout, "\n%s:\n", m(sec.key))
		for _, f := range sec.f {
			fmt.Fprintf(stdout, "  %s  %-8s port %-5d %-18s %s %s\n", ts(f.Time), f.Honeypot, f.Port, f.Kind, f.Family, f.Detail)
		}
	}
	if len(res.Advice) > 0 {
		fam := strings.Join(res.Families, ", ")
		fmt.Fprintf(stdout, "\n%s:\n", m("check.todo"))
		for i, a := range res.Advice {
			fmt.Fprintf(stdout, "  %d. %s\n", i+1, m(a, "family", fam))
		}
	}
	return nil
}
