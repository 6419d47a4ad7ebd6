package intel

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// Most requests match no signature; running every signature's regular
// expressions over them is most of a honeypot's matching cost. Each
// expression's required literal (the longest text every match contains)
// is checked first with strings.Contains on the lower-cased text, and the
// expression runs only where it is present.

var literals sync.Map // *regexp.Regexp -> string ("" when none is known)

// noteLiteral records re's required literal; called when a set compiles.
func noteLiteral(re *regexp.Regexp) {
	if re == nil {
		return
	}
	lit := ""
	if t, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		lit = requiredLiteral(t.Simplify())
	}
	literals.Store(re, lit)
}

func literalOf(re *regexp.Regexp) string {
	v, _ := literals.Load(re)
	s, _ := v.(string)
	return s
}

// requiredLiteral is the longest literal every match of t contains,
// ASCII lower-cased, or "" when none can be told safely (case-folded
// letters with Unicode folds, k and s, are given up on).
func requiredLiteral(t *syntax.Regexp) string {
	switch t.Op {
	case syntax.OpLiteral:
		s := string(t.Rune)
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return ""
			}
		}
		s = asciiLower(s)
		if t.Flags&syntax.FoldCase != 0 && strings.ContainsAny(s, "ks") {
			return ""
		}
		return s
	case syntax.OpConcat:
		best := ""
		for _, sub := range t.Sub {
			if l := requiredLiteral(sub); len(l) > len(best) {
				best = l
			}
		}
		return best
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return requiredLiteral(t.Sub[0])
		}
	}
	return ""
}

// asciiLower lower-cases ASCII letters only, so byte offsets and
// non-ASCII bytes stay as they are.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}
