package http

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// PageInfo is what the module reads out of an HTML page.
type PageInfo struct {
	Title        string
	IconHref     string
	PasswordForm bool
}

const maxTitle = 1024

// ParsePage extracts the title, the favicon link and whether a password
// field is present, tolerating any malformed markup.
func ParsePage(body []byte) PageInfo {
	var pi PageInfo
	z := html.NewTokenizer(bytes.NewReader(body))
	inTitle, haveTitle := false, false
	var title strings.Builder
	for steps := 0; steps < 100000; steps++ {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			pi.Title = cleanTitle(title.String())
			return pi
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				if !haveTitle {
					inTitle = true
				}
			case atom.Link:
				var rel, href string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "rel":
						rel = strings.ToLower(string(v))
					case "href":
						href = string(v)
					}
				}
				if pi.IconHref == "" && strings.Contains(rel, "icon") && href != "" {
					pi.IconHref = href
				}
			case atom.Input:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "type" && strings.EqualFold(string(v), "password") {
						pi.PasswordForm = true
					}
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) == atom.Title && inTitle {
				inTitle, haveTitle = false, true
			}
		case html.TextToken:
			if inTitle && title.Len() < maxTitle {
				title.Write(z.Text())
			}
		}
	}
	pi.Title = cleanTitle(title.String())
	return pi
}

func cleanTitle(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxTitle {
		s = s[:maxTitle]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
