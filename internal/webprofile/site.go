package webprofile

import (
	"crypto/sha256"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Site is one installation's instance of a profile, with every answer
// rendered once: serving one is copying bytes.
type Site struct {
	Profile *Profile
	// Identity holds the values drawn for this installation.
	Identity map[string]string
	// Realm is the expanded authentication realm.
	Realm string
	// Header is the profile's common headers, each ending in CRLF.
	Header []byte

	routes                                       []*Answer
	NotFound, BadRequest, TooLarge, Unauthorized *Answer
	FormSuccess, FormFailure                     *Answer
}

// Answer is one rendered response: Header holds the route's own headers
// and its Content-Type, each ending in CRLF (the common ones are in
// Site.Header).
type Answer struct {
	Status int
	Reason string
	Header []byte
	Body   []byte
	// Auth: ask for the profile's authentication before answering.
	Auth bool

	method      []string
	path, query *regexp.Regexp
}

var patRE = regexp.MustCompile(`\{(hex|HEX|dec)([0-9]{1,3})\}`)

// Instantiate draws the installation's identity from seed and renders every
// answer; the same seed gives the same site.
func (p *Profile) Instantiate(seed []byte) *Site {
	h := sha256.New()
	h.Write([]byte("kansoku/webprofile/v1\x00" + p.Name + "\x00"))
	h.Write(seed)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	r := rand.New(rand.NewChaCha8(key))

	s := &Site{Profile: p, Identity: map[string]string{}}
	names := make([]string, 0, len(p.Identity))
	for k := range p.Identity {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := p.Identity[k]
		s.Identity[k] = digits(r, vs[r.IntN(len(vs))])
	}
	// Longest names first, so {model} never eats part of {model_no}.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, k := range names {
		pairs = append(pairs, "{"+k+"}", s.Identity[k])
	}
	rep := strings.NewReplacer(pairs...)
	expand := func(t string) string {
		if !strings.Contains(t, "{") {
			return t
		}
		return digits(r, rep.Replace(t))
	}
	s.Realm = expand(p.Auth.Realm)
	var hb strings.Builder
	for _, hd := range p.Headers {
		hb.WriteString(expand(hd) + "\r\n")
	}
	s.Header = []byte(hb.String())
	render := func(rt *Route) *Answer {
		a := &Answer{Status: rt.Status, Reason: rt.Reason, Auth: rt.Auth, method: rt.Method, path: rt.path, query: rt.query}
		var b strings.Builder
		if rt.ContentType != "" {
			b.WriteString("Content-Type: " + rt.ContentType + "\r\n")
		}
		for _, hd := range rt.Headers {
			b.WriteString(expand(hd) + "\r\n")
		}
		a.Header = []byte(b.String())
		switch {
		case rt.File != "":
			data, _ := readBounded(p.fsys, rt.File, maxFile) // checked at load
			if utf8.Valid(data) {
				data = []byte(expand(string(data)))
			}
			a.Body = data
		default:
			a.Body = []byte(expand(rt.Body))
		}
		return a
	}
	for i := range p.Routes {
		s.routes = append(s.routes, render(&p.Routes[i]))
	}
	s.NotFound, s.BadRequest, s.TooLarge = render(&p.NotFound), render(&p.BadRequest), render(&p.TooLarge)
	s.Unauthorized = render(&p.Unauthorized)
	if p.Form != nil {
		s.FormSuccess, s.FormFailure = render(&p.Form.Success), render(&p.Form.Failure)
	}
	return s
}

// digits replaces {hexN}, {HEXN} and {decN} with N random digits.
func digits(r *rand.Rand, t string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	return patRE.ReplaceAllStringFunc(t, func(m string) string {
		sub := patRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		var b strings.Builder
		for range n {
			switch sub[1] {
			case "hex":
				b.WriteByte("0123456789abcdef"[r.IntN(16)])
			case "HEX":
				b.WriteByte("0123456789ABCDEF"[r.IntN(16)])
			default:
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		return b.String()
	})
}

// Find returns the answer for a request: the first route whose method and
// path match (HEAD matches GET routes), else NotFound.
func (s *Site) Find(method, path, rawQuery string) *Answer {
	for _, a := range s.routes {
		if len(a.method) > 0 && !slices.Contains(a.method, method) && (method != "HEAD" || !slices.Contains(a.method, "GET")) {
			continue
		}
		if !a.path.MatchString(path) {
			continue
		}
		if a.query != nil && !a.query.MatchString(rawQuery) {
			continue
		}
		return a
	}
	return s.NotFound
}

// FormPath reports whether a POST to path is the profile's login form.
func (s *Site) FormPath(path string) bool {
	return s.Profile.Form != nil && s.Profile.Form.Path == path
}

// Delay draws the think time before an answer from r (a per-connection
// source), within the profile's timing.
func (s *Site) Delay(r *rand.Rand) time.Duration {
	t := s.Profile.Timing
	if t.Max <= 0 {
		return 0
	}
	if t.Max == t.Min {
		return t.Min
	}
	return t.Min + time.Duration(r.Int64N(int64(t.Max-t.Min)))
}
