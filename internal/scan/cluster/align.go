package cluster

import (
	"sort"
	"strings"
	"unicode"
)

// maxAlign bounds the LCS table for pages whose structure differs from the
// cluster's representative.
const maxAlign = 600

// extractLabels aligns every member's text nodes to the reference and
// returns, per member, the text of the slots whose content differs across
// members, stripped of the separator-delimited segments all members share.
func extractLabels(ref *doc, ms []*member) map[string][]string {
	n := len(ref.texts)
	// slots[i][j] is member j's text at reference slot i ("" if absent).
	slots := make([][]string, n)
	for i := range slots {
		slots[i] = make([]string, len(ms))
	}
	for j, m := range ms {
		for ri, mi := range alignTexts(ref.texts, m.doc.texts) {
			if mi >= 0 {
				slots[ri][j] = m.doc.texts[mi].Text
			}
		}
	}
	out := map[string][]string{}
	for _, vals := range slots {
		distinct := map[string]bool{}
		present := 0
		for _, v := range vals {
			if v != "" {
				distinct[v] = true
				present++
			}
		}
		if len(distinct) < 2 || present < 2 {
			continue
		}
		labels := stripCommon(vals)
		for j, l := range labels {
			if l == "" || !labelLike(l) {
				continue
			}
			k := ms[j].page.Key
			if !contains(out[k], l) {
				out[k] = append(out[k], l)
			}
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// alignTexts maps reference slot → member text index. Identical paths in the
// same order map one to one; otherwise an LCS over paths aligns them.
func alignTexts(ref, m []textNode) []int {
	out := make([]int, len(ref))
	for i := range out {
		out[i] = -1
	}
	same := len(ref) == len(m)
	for i := 0; same && i < len(ref); i++ {
		same = ref[i].Path == m[i].Path
	}
	if same {
		for i := range out {
			out[i] = i
		}
		return out
	}
	a, b := ref, m
	if len(a) > maxAlign {
		a = a[:maxAlign]
	}
	if len(b) > maxAlign {
		b = b[:maxAlign]
	}
	// dp[i][j] = LCS of a[i:], b[j:]
	dp := make([][]int32, len(a)+1)
	for i := range dp {
		dp[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			switch {
			case a[i].Path == b[j].Path:
				dp[i][j] = dp[i+1][j+1] + 1
			case dp[i+1][j] >= dp[i][j+1]:
				dp[i][j] = dp[i+1][j]
			default:
				dp[i][j] = dp[i][j+1]
			}
		}
	}
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i].Path == b[j].Path:
			out[i] = j
			i++
			j++
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// separators split a text into segments: "Site A - Product" is the site's
// segment and the product's segment, so a shared product name is stripped
// without cutting into a facility name such as "○○川水位観測所".
var separators = []string{" - ", " | ", "｜", " : ", ": ", "：", " / ", " – ", " — ", "【", "】", "[", "]", " ・ ", "・"}

func segments(s string) []string {
	parts := []string{s}
	for _, sep := range separators {
		var next []string
		for _, p := range parts {
			next = append(next, strings.Split(p, sep)...)
		}
		parts = next
	}
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// stripCommon removes the leading and trailing segments that every present
// value shares and returns what is left per value.
func stripCommon(vals []string) []string {
	segs := make([][]string, len(vals))
	var present [][]string
	for i, v := range vals {
		if v != "" {
			segs[i] = segments(v)
			present = append(present, segs[i])
		}
	}
	pre, suf := commonAffixes(present)
	out := make([]string, len(vals))
	for i, s := range segs {
		if len(s) == 0 || pre+suf >= len(s) {
			continue
		}
		out[i] = strings.Join(s[pre:len(s)-suf], " - ")
	}
	return out
}

func commonAffixes(ss [][]string) (pre, suf int) {
	if len(ss) == 0 {
		return 0, 0
	}
	minLen := len(ss[0])
	for _, s := range ss {
		minLen = min(minLen, len(s))
	}
	for pre < minLen && allEqual(ss, func(s []string) string { return s[pre] }) {
		pre++
	}
	for suf < minLen-pre && allEqual(ss, func(s []string) string { return s[len(s)-1-suf] }) {
		suf++
	}
	return pre, suf
}

func allEqual(ss [][]string, f func([]string) string) bool {
	first := f(ss[0])
	for _, s := range ss[1:] {
		if f(s) != first {
			return false
		}
	}
	return true
}

// labelLike drops readings, counters and timestamps: a label has more
// letters than digits.
func labelLike(s string) bool {
	letters, digits := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return letters > 0 && letters > digits
}

// commonTitle is the segments shared by every title, the product's name in
// "Site - Product" titles.
func commonTitle(titles map[string]int) string {
	var ss [][]string
	keys := make([]string, 0, len(titles))
	for t := range titles {
		keys = append(keys, t)
	}
	sort.Strings(keys)
	for _, t := range keys {
		ss = append(ss, segments(t))
	}
	pre, suf := commonAffixes(ss)
	if len(ss) == 0 {
		return ""
	}
	var parts []string
	parts = append(parts, ss[0][:pre]...)
	parts = append(parts, ss[0][len(ss[0])-suf:]...)
	return strings.Join(parts, " - ")
}
