package intel

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bounds on attacker input and on what a match carries.
const (
	MaxPayload     = 1 << 20 // bytes of a request or payload examined
	maxEvidence    = 256
	maxURLs        = 16
	maxHeaderLines = 100
)

// request is the matcher's view of an HTTP request, from net/http or
// from raw bytes.
type request struct {
	method  string
	target  string              // request target as sent
	headers map[string][]string // lower-case names
	body    []byte
}

// MatchHTTP checks a parsed request and its body against the HTTP
// signatures. The body is passed separately because the caller (a
// honeypot handler) has usually read it already.
func (s *ExploitSet) MatchHTTP(req *http.Request, body []byte) []ExploitMatch {
	if req == nil {
		return nil
	}
	r := &request{method: req.Method, target: req.RequestURI, headers: map[string][]string{}, body: body}
	if r.target == "" && req.URL != nil {
		r.target = req.URL.RequestURI()
	}
	for k, v := range req.Header {
		r.headers[strings.ToLower(k)] = v
	}
	// net/http moves Host out of the header map; signatures look at it.
	if _, ok := r.headers["host"]; !ok && req.Host != "" {
		r.headers["host"] = []string{req.Host}
	}
	return s.matchRequest(r)
}

// MatchRaw checks a payload seen on proto ("tcp" or "udp") and dstPort.
// A TCP payload that looks like an HTTP request is parsed (leniently:
// bots send malformed requests) and checked against the HTTP signatures
// too.
func (s *ExploitSet) MatchRaw(proto string, dstPort int, payload []byte) []ExploitMatch {
	if len(payload) > MaxPayload {
		payload = payload[:MaxPayload]
	}
	proto = strings.ToLower(proto)
	var out []ExploitMatch
	if proto == ProtoTCP {
		if r := parseRequest(payload); r != nil {
			out = s.matchRequest(r)
		}
	}
	text := string(payload)
	for _, e := range s.exploits {
		if e.Protocol != proto || len(e.raw) == 0 {
			continue
		}
		if len(e.Ports) > 0 && dstPort > 0 && !slices.Contains(e.Ports, dstPort) {
			continue
		}
		for _, re := range e.raw {
			if loc := re.FindStringIndex(text); loc != nil {
				out = append(out, e.result(bound(evidence(text, loc), maxEvidence), downloadURLs(text)))
				break
			}
		}
	}
	return out
}

var httpMethods = []string{"GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}

// parseRequest reads "METHOD target HTTP/x.y" and headers up to the blank
// line; whatever follows is the body. It returns nil when the payload
// does not start like an HTTP request.
func parseRequest(p []byte) *request {
	line, rest, ok := bytes.Cut(p, []byte("\n"))
	if !ok {
		line, rest = p, nil
	}
	parts := strings.Fields(strings.TrimRight(string(line), "\r"))
	if len(parts) < 2 || !slices.Contains(httpMethods, parts[0]) {
		return nil
	}
	if len(parts) >= 3 && !strings.HasPrefix(parts[len(parts)-1], "HTTP/") {
		return nil
	}
	r := &request{method: parts[0], target: parts[1], headers: map[string][]string{}}
	if len(parts) > 3 {
		// A target with raw spaces (bots do that): rejoin it.
		r.target = strings.Join(parts[1:len(parts)-1], " ")
	}
	for n := 0; len(rest) > 0 && n < maxHeaderLines; n++ {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		l := strings.TrimRight(string(line), "\r")
		if l == "" {
			break
		}
		if k, v, found := strings.Cut(l, ":"); found {
			k = strings.ToLower(strings.TrimSpace(k))
			r.headers[k] = append(r.headers[k], strings.TrimSpace(v))
		}
		if !ok {
			rest = nil
		}
	}
	r.body = rest
	return r
}

// decode undoes the encodings bots wrap commands in: percent-encoding,
// '+' for space, ${IFS} and HTML entities, so one regex sees one form.
func decode(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		s = u
	} else if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	r := strings.NewReplacer("${IFS}", " ", "$IFS", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'")
	return r.Replace(s)
}

// text is one part of a request in raw and decoded form; the decoded form
// is made once, on first use, and shared by all signatures.
type text struct {
	raw            string
	decoded        *string
	lowRaw, lowDec *string
}

func newText(s string) *text { return &text{raw: s} }

func (t *text) dec() string {
	if t.decoded == nil {
		d := decode(t.raw)
		t.decoded = &d
	}
	return *t.decoded
}

// has reports whether lit may be in the raw (or decoded) form.
func (t *text) has(lit string, decoded bool) bool {
	if lit == "" {
		return true
	}
	p := &t.lowRaw
	src := t.raw
	if decoded {
		p, src = &t.lowDec, t.dec()
	}
	if *p == nil {
		l := asciiLower(src)
		*p = &l
	}
	return strings.Contains(**p, lit)
}

// find returns the location of re in raw or, failing that, in decoded form.
func find(re *regexp.Regexp, t *text) (string, []int) {
	lit := literalOf(re)
	if t.has(lit, false) {
		if loc := re.FindStringIndex(t.raw); loc != nil {
			return t.raw, loc
		}
	}
	if d := t.dec(); d != t.raw && t.has(lit, true) {
		if loc := re.FindStringIndex(d); loc != nil {
			return d, loc
		}
	}
	return "", nil
}

func (s *ExploitSet) matchRequest(r *request) []ExploitMatch {
	if len(r.body) > MaxPayload {
		r.body = r.body[:MaxPayload]
	}
	body := string(r.body)
	var hdrs strings.Builder
	// Sorted, so evidence is the same for the same request.
	names := make([]string, 0, len(r.headers))
	for k := range r.headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range r.headers[k] {
			hdrs.WriteString(k + ": " + v + "\n")
		}
	}
	p := &parts{
		target:     newText(r.target),
		body:       newText(body),
		everything: newText(r.target + "\n" + hdrs.String() + "\n" + body),
		headers:    map[string][]*text{},
	}
	for k, vs := range r.headers {
		for _, v := range vs {
			p.headers[k] = append(p.headers[k], newText(v))
		}
	}
	var out []ExploitMatch
	for _, e := range s.exploits {
		if e.Protocol != ProtoHTTP {
			continue
		}
		if ev, ok := e.matchHTTP(r.method, p); ok {
			out = append(out, e.result(ev, downloadURLs(p.everything.dec())))
		}
	}
	return out
}

// parts are the pieces of a request signatures look at.
type parts struct {
	target, body, everything *text
	headers                  map[string][]*text
}

func (e *Exploit) matchHTTP(method string, p *parts) (string, bool) {
	if len(e.Match.Method) > 0 && !slices.Contains(e.Match.Method, strings.ToUpper(method)) {
		return "", false
	}
	var ev []string
	if e.path != nil {
		t, loc := find(e.path, p.target)
		if loc == nil {
			return "", false
		}
		ev = append(ev, evidence(t, loc))
	}
	for _, re := range e.body {
		t, loc := find(re, p.body)
		if loc == nil {
			return "", false
		}
		ev = append(ev, evidence(t, loc))
	}
	for h, re := range e.headers {
		hit := false
		for _, v := range p.headers[h] {
			if t, loc := find(re, v); loc != nil {
				ev = append(ev, h+": "+evidence(t, loc))
				hit = true
				break
			}
		}
		if !hit {
			return "", false
		}
	}
	if len(e.any) > 0 {
		hit := false
		for _, re := range e.any {
			if t, loc := find(re, p.everything); loc != nil {
				ev = append(ev, evidence(t, loc))
				hit = true
				break
			}
		}
		if !hit {
			return "", false
		}
	}
	return bound(strings.Join(ev, " | "), maxEvidence), true
}

// evidence returns the match with a little context, unescaped: the
// caller escapes the joined evidence once.
func evidence(s string, loc []int) string {
	from := max(0, loc[0]-16)
	to := min(len(s), loc[1]+48, loc[0]+maxEvidence)
	return s[from:to]
}

// bound escapes s for display (quoting control bytes and invalid UTF-8)
// and cuts it to n bytes.
func bound(s string, n int) string {
	q := strconv.Quote(s)
	q = q[1 : len(q)-1]
	if len(q) > n {
		q = q[:n]
		for len(q) > 0 && !utf8.ValidString(q) {
			q = q[:len(q)-1]
		}
		// Do not leave a dangling escape.
		if i := strings.LastIndexByte(q, '\\'); i >= 0 && len(q)-i < 4 {
			q = q[:i]
		}
		q += "…"
	}
	return q
}

var (
	reURL  = regexp.MustCompile(`(?i)^(?:https?|ftp|tftp|ldaps?|rmi)://[a-z0-9._~:@\[\]%-]+(?:/\S*)?$`)
	reTool = regexp.MustCompile(`(?i)\b(wget|curl|tftp|ftpget|jndi:)`)
	reHost = regexp.MustCompile(`(?i)^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::[0-9]{1,5})?(?:/\S*)?$`)
	// Options of wget/curl/tftp that take a value, which is not the URL.
	valueOpts = map[string]bool{"-O": true, "-o": true, "-P": true, "-U": true, "-T": true, "-t": true,
		"-l": true, "-r": true, "-b": true, "-e": true, "-X": true, "-H": true, "-d": true, "-A": true,
		"--output-document": true, "--user-agent": true, "--header": true}
)

// downloadURLs pulls what an injected command downloads. It looks only at
// the arguments of download tools (wget, curl, tftp, ftpget) and at JNDI
// lookups, so namespace URLs of a SOAP body are not mistaken for payloads:
// explicit URLs, scheme-less "wget 1.2.3.4/x", busybox's
// "wget -g host -l dst -r file", "tftp -g -r file host" and
// "ftpget host local remote".
func downloadURLs(s string) []string {
	var out []string
	add := func(u string) {
		u = strings.TrimRight(u, ".,")
		if len(out) < maxURLs && !slices.Contains(out, u) {
			out = append(out, bound(u, 512))
		}
	}
	for _, loc := range reTool.FindAllStringSubmatchIndex(s, 64) {
		tool := strings.ToLower(s[loc[2]:loc[3]])
		seg := s[loc[1]:min(len(s), loc[1]+512)]
		if i := strings.IndexAny(seg, ";|&\n`<>(){}'\""); i >= 0 {
			seg = seg[:i]
		}
		if tool == "jndi:" {
			if reURL.MatchString(strings.TrimSpace(seg)) {
				add(strings.TrimSpace(seg))
			}
			continue
		}
		args := strings.FieldsFunc(seg, func(r rune) bool { return r == ' ' || r == '\t' || r == '+' || r == '\r' })
		opt := map[string]string{}
		var pos []string
		for i := 0; i < len(args); i++ {
			a := args[i]
			if strings.HasPrefix(a, "-") && len(a) > 1 {
				// busybox wget -g takes the host; tftp -g is "get".
				if (valueOpts[a] || a == "-g" && tool != "tftp") && i+1 < len(args) {
					opt[a] = args[i+1]
					i++
				}
				continue
			}
			pos = append(pos, a)
		}
		switch tool {
		case "wget", "curl":
			if h, f := opt["-g"], opt["-r"]; h != "" && f != "" {
				add("http://" + h + "/" + strings.TrimPrefix(f, "/"))
				continue
			}
			for _, a := range pos {
				switch {
				case reURL.MatchString(a):
					add(a)
				case reHost.MatchString(a) && strings.Contains(a, "/"):
					add("http://" + a)
				}
			}
		case "tftp":
			if f := opt["-r"]; f != "" && len(pos) > 0 && reHost.MatchString(pos[0]) {
				add("tftp://" + pos[0] + "/" + strings.TrimPrefix(f, "/"))
			}
		case "ftpget":
			if len(pos) >= 3 && reHost.MatchString(pos[0]) {
				add("ftp://" + pos[0] + "/" + strings.TrimPrefix(pos[2], "/"))
			}
		}
	}
	return out
}
