package cluster

import (
	"bytes"
	"hash/fnv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on hostile pages: how much of a body is read and how many tags and
// text nodes a page contributes.
const (
	maxBody      = 1 << 20
	maxTags      = 20000
	maxTextNodes = 2000
	maxTextLen   = 512
	shingleSize  = 4
)

// textNode is one non-empty text run with the tag path that holds it.
type textNode struct {
	Path string
	Text string
}

// doc is a parsed page: its structure and its text.
type doc struct {
	tags      []string
	shingles  map[uint64]int // tag-sequence shingles with their counts
	structure uint64         // hash of the exact tag sequence
	texts     []textNode
}

// voidElements never get an end tag, so they must not stay on the stack.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
	atom.Source: true, atom.Track: true, atom.Wbr: true,
}

// parse tokenizes a page: the tag sequence (not the text) is the template,
// the text nodes with their paths are what alignment compares.
func parse(body []byte) *doc {
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	d := &doc{shingles: map[uint64]int{}}
	z := html.NewTokenizer(bytes.NewReader(body))
	var stack []string
	skip := 0 // inside script/style: text there is code, not labels
	full := fnv.New64a()
	for len(d.tags) < maxTags {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			d.finish(full.Sum64())
			return d
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			a := atom.Lookup(name)
			d.tags = append(d.tags, tag)
			full.Write(name)
			full.Write([]byte{'<'})
			if tt == html.StartTagToken && !voidElements[a] {
				stack = append(stack, tag)
				if a == atom.Script || a == atom.Style {
					skip++
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			full.Write([]byte{'/'})
			full.Write(name)
			// Pop to the matching open tag; stray end tags are ignored.
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == tag {
					for _, t := range stack[i:] {
						if t == "script" || t == "style" {
							skip--
						}
					}
					stack = stack[:i]
					break
				}
			}
		case html.TextToken:
			if skip > 0 || len(d.texts) >= maxTextNodes {
				continue
			}
			t := strings.Join(strings.Fields(string(z.Text())), " ")
			if t == "" {
				continue
			}
			if len(t) > maxTextLen {
				t = t[:maxTextLen]
			}
			d.texts = append(d.texts, textNode{Path: strings.Join(stack, "/"), Text: t})
		}
	}
	d.finish(full.Sum64())
	return d
}

func (d *doc) finish(structure uint64) {
	d.structure = structure
	for i := 0; i+shingleSize <= len(d.tags); i++ {
		h := fnv.New64a()
		for _, t := range d.tags[i : i+shingleSize] {
			h.Write([]byte(t))
			h.Write([]byte{0})
		}
		d.shingles[h.Sum64()]++
	}
	if len(d.tags) < shingleSize && len(d.tags) > 0 {
		d.shingles[structure]++
	}
}

// jaccard is the weighted Jaccard similarity of two shingle bags: repeated
// rows count, so one extra table row barely moves a long page.
func jaccard(a, b map[uint64]int) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter, union := 0, 0
	for k, x := range a {
		y := b[k]
		inter += min(x, y)
		union += max(x, y)
	}
	for k, y := range b {
		if _, ok := a[k]; !ok {
			union += y
		}
	}
	return float64(inter) / float64(union)
}

func wordSet(s string) map[uint64]int {
	out := map[uint64]int{}
	for _, w := range strings.Fields(strings.ToLower(s)) {
		h := fnv.New64a()
		h.Write([]byte(w))
		out[h.Sum64()]++
	}
	return out
}
