package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/web"
)

func init() {
	Register(Command{Name: "admin", Summary: "admin user add NAME | apikey create --name N --scopes S[,S] [--prefixes P[,P]] | apikey list | apikey revoke ID", Run: runAdmin})
}

const adminUsage = "admin user add NAME [--password-file F] | admin apikey create --name N --scopes " +
	"samples:download,feeds:read,check:any [--prefixes 192.0.2.0/24] | admin apikey list | admin apikey revoke ID"

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return fmt.Errorf("%w: %s", ErrUsage, adminUsage)
	}
	fs := NewFlagSet("admin "+args[0]+" "+args[1], stderr)
	cfgPath := fs.String("config", "", "YAML config file (store section)")
	dbPath := fs.String("db", "", "SQLite database (overrides the config)")
	pwFile := fs.String("password-file", "", "read the password from this file (default: first line of stdin)")
	name := fs.String("name", "", "key name, who it is for (default: cli and the time)")
	scopes := fs.String("scopes", "", "comma-separated scopes")
	prefixes := fs.String("prefixes", "", "comma-separated prefixes a check:any key may query")
	// Flags may come before or after the positional NAME/ID.
	var pos []string
	rest := args[2:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
	}
	st, err := openStore(ctx, *cfgPath, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] + " " + args[1] {
	case "user add":
		if len(pos) != 1 {
			return fmt.Errorf("%w: admin user add NAME", ErrUsage)
		}
		var pw string
		if *pwFile != "" {
			b, err := os.ReadFile(*pwFile)
			if err != nil {
				return err
			}
			pw = strings.TrimRight(string(b), "\r\n")
		} else {
			line, err := bufio.NewReader(os.Stdin).ReadString('\n')
			if err != nil && line == "" {
				return fmt.Errorf("admin: read password from stdin: %w", err)
			}
			pw = strings.TrimRight(line, "\r\n")
		}
		h, err := web.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := st.CreateUser(ctx, pos[0], h); err != nil {
			return err
		}
		_ = st.Audit(ctx, "cli", "user.add", pos[0])
		fmt.Fprintf(stdout, "user %s saved\n", pos[0])
	case "apikey create":
		var ps []netip.Prefix
		for _, p := range strings.FieldsFunc(*prefixes, func(r rune) bool { return r == ',' || r == ' ' }) {
			pp, err := netip.ParsePrefix(p)
			if err != nil {
				return fmt.Errorf("%w: --prefixes: %v", ErrUsage, err)
			}
			ps = append(ps, pp)
		}
		if *name == "" {
			*name = "cli " + time.Now().UTC().Format(time.RFC3339)
		}
		secret, k, err := web.NewAPIKey(*name, strings.FieldsFunc(*scopes, func(r rune) bool { return r == ',' || r == ' ' }), ps, time.Now())
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if err := st.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		_ = st.Audit(ctx, "cli", "apikey.create", k.ID+" "+k.Name+" "+strings.Join(k.Scopes, ","))
		fmt.Fprintf(stderr, "key %s for %s (scopes %s); the secret is shown only now:\n", k.ID, k.Name, strings.Join(k.Scopes, ","))
		fmt.Fprintln(stdout, secret)
	case "apikey list":
		keys, err := st.APIKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%v\t%s\trevoked=%v\n", k.ID, k.Name, strings.Join(k.Scopes, ","), k.Prefixes, k.Created.Format(time.RFC3339), k.Revoked)
		}
	case "apikey revoke":
		if len(pos) != 1 {
			return fmt.Errorf("%w: admin apikey revoke ID", ErrUsage)
		}
		if err := st.RevokeAPIKey(ctx, pos[0]); err != nil {
			return err
		}
		_ = st.Audit(ctx, "cli", "apikey.revoke", pos[0])
		fmt.Fprintf(stdout, "key %s revoked\n", pos[0])
	default:
		return fmt.Errorf("%w: %s", ErrUsage, adminUsage)
	}
	return nil
}
