package intel

import (
	"regexp"
	"regexp/syntax"
	"testing"
)

func TestRequiredLiteral(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`^/GponForm/diag_Form`, "/gponform/diag_form"},
		{`(?i)^/GponForm/diag_Form`, "/gponform/diag_form"},
		{`(?i)class\.module`, ""}, // case-folded s: Unicode folds (ſ) could match
		{`(?i)\$\{jndi:`, "${jndi:"},
		{`<New(Status|Download)URL>[^<]*[$;|]`, "<new"},
		{`(keyPath|loginUser)=[^&]*('|%27)`, "="},
		{`a*`, ""},
		{`(abc)+x`, "abc"},
		{`é+ab`, "ab"},
	} {
		p, err := syntax.Parse(tc.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := requiredLiteral(p.Simplify()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// FuzzPrefilter: the literal check never hides a match.
func FuzzPrefilter(f *testing.F) {
	f.Add(`(?i)\$\{jndi:`, "${JNDI:ldap://x}")
	f.Add(`<New(Status|Download)URL>[^<]*[$;|]`, "<NewStatusURL>$(x)")
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		noteLiteral(re)
		defer literals.Delete(re)
		if re.MatchString(s) && !newText(s).has(literalOf(re), false) {
			t.Fatalf("%q matches %q but its literal %q is not in it", expr, s, literalOf(re))
		}
	})
}
