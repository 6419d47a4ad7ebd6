package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"

	"github.com/kansoku/kansoku/internal/shell"
)

// Bounds on payload extraction, whatever the request.
const (
	maxFields     = 256 // request fields examined
	maxFieldBytes = 64 << 10
	maxInjections = 16
	maxDecodes    = 4 // nested percent/entity encodings undone
)

// Injection is a shell command line found in one request field, decoded.
type Injection struct {
	Field     string           `json:"field"`
	Command   string           `json:"command"`
	Downloads []shell.Download `json:"downloads,omitempty"`
}

// Request is the part of a request payload extraction looks at.
type Request struct {
	Target  string      // request target as sent (path and query)
	Headers [][2]string // in order, as sent
	Body    []byte
	// Form reports a body in application/x-www-form-urlencoded.
	Form bool
}

// Extract finds the shell commands injected in a request. Each field (the
// path, the raw query and each query parameter, form fields, XML element
// text, JSON strings, header values, the whole body) is decoded through the
// layers bots stack — percent-encoding (repeated), '+', HTML and XML
// entities, \xNN escapes — and parsed with the shell's parser, which undoes
// the rest itself (${IFS}, $(…) and backticks, ; | && chains, quotes,
// echo … | base64 -d | sh). A field is an injection when it holds shell
// syntax and runs a command an attacker's payload runs; its downloads are
// what the parser finds on every path through it.
func Extract(r Request) []Injection {
	x := &extractor{seen: map[string]bool{}}
	path, query, _ := strings.Cut(r.Target, "?")
	x.field("path", path, false)
	if query != "" {
		x.field("query", query, true)
		x.params("query", query)
	}
	for _, h := range r.Headers {
		switch strings.ToLower(h[0]) {
		case "host", "content-length", "content-type", "accept", "accept-encoding", "accept-language", "connection", "authorization":
			continue
		}
		x.field("header:"+h[0], h[1], false)
	}
	if len(r.Body) > 0 {
		body := string(r.Body)
		if r.Form || looksForm(body) {
			x.params("body", body)
		}
		switch {
		case bytes.Contains(r.Body, []byte("</")):
			x.xmlText(body)
		case len(body) > 0 && (body[0] == '{' || body[0] == '['):
			x.jsonStrings(body)
		}
		x.field("body", body, r.Form)
	}
	return x.out
}

type extractor struct {
	out    []Injection
	seen   map[string]bool
	fields int
}

// field examines one value in its decoded forms.
func (x *extractor) field(name, v string, plus bool) {
	if x.fields++; x.fields > maxFields || len(x.out) >= maxInjections || v == "" {
		return
	}
	if len(v) > maxFieldBytes {
		v = v[:maxFieldBytes]
	}
	// The most decoded form that parses as an injection wins; one that
	// downloads something wins over one that does not.
	var best Injection
	found := false
	for _, d := range Decode(v, plus) {
		if x.seen[d] {
			continue
		}
		x.seen[d] = true
		if in, ok := inject(d); ok && (!found || len(in.Downloads) >= len(best.Downloads)) {
			best, found = in, true
		}
	}
	if found {
		best.Field = name
		x.out = append(x.out, best)
	}
}

// params examines each value of a query or form string.
func (x *extractor) params(prefix, s string) {
	for _, kv := range strings.Split(s, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		x.field(prefix+":"+k, v, true)
	}
}

// xmlText examines the text of every element (SOAP arguments), without an
// XML parser: bots send XML no parser accepts.
func (x *extractor) xmlText(s string) {
	for len(s) > 0 && x.fields < maxFields {
		i := strings.IndexByte(s, '>')
		if i < 0 {
			return
		}
		tag := s[:i]
		s = s[i+1:]
		x.xmlAttrs(tag)
		j := strings.IndexByte(s, '<')
		if j < 0 {
			j = len(s)
		}
		if text := s[:j]; strings.TrimSpace(text) != "" {
			name := tag[strings.LastIndexByte(tag, '<')+1:]
			if k := strings.IndexAny(name, " \t\r\n/"); k >= 0 {
				name = name[:k]
			}
			x.field("xml:"+name, text, false)
		}
		s = s[j:]
	}
}

// xmlAttrs examines the quoted attribute values of a tag (LILIN's
// NTP Server="…").
func (x *extractor) xmlAttrs(tag string) {
	for x.fields < maxFields {
		i := strings.Index(tag, `="`)
		if i < 0 {
			return
		}
		name := tag[:i]
		name = name[strings.LastIndexAny(name, " \t\r\n<")+1:]
		rest := tag[i+2:]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			j = len(rest)
		}
		x.field("xml@"+name, rest[:j], false)
		if j == len(rest) {
			return
		}
		tag = rest[j+1:]
	}
}

// jsonStrings examines every string value of a JSON body.
func (x *extractor) jsonStrings(s string) {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch t := v.(type) {
		case string:
			x.field("json:"+key, t, false)
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(k, t[k])
			}
		case []any:
			for _, e := range t {
				walk(key, e)
			}
		}
	}
	walk("", v)
}

func looksForm(s string) bool {
	k, _, ok := strings.Cut(s, "=")
	return ok && k != "" && !strings.ContainsAny(k, " <>{}\"\n")
}

// Decode returns v and the forms it takes as its encodings are undone one
// layer at a time (percent-encoding with or without '+', HTML/XML
// entities, \xNN escapes), distinct, at most maxDecodes deep.
func Decode(v string, plus bool) []string {
	out := []string{v}
	cur := v
	for range maxDecodes {
		next := unPercent(cur, plus)
		next = html.UnescapeString(next)
		if next == cur {
			break
		}
		out = append(out, next)
		cur = next
	}
	if h := unHex(cur); h != cur {
		out = append(out, h)
	}
	if b := jndiCommand(cur); b != "" {
		out = append(out, b)
	}
	return out
}

// jndiCommand is the command a Log4Shell lookup carries for the
// JNDI-Exploit kits' "…/Basic/Command/Base64/<command>}" form.
func jndiCommand(s string) string {
	_, rest, ok := strings.Cut(s, "/Command/Base64/")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "}\"' \t\r\n"); i >= 0 {
		rest = rest[:i]
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(rest); err == nil {
			return string(b)
		}
	}
	return ""
}

// unPercent undoes percent-encoding leniently: a '%' not followed by two
// hex digits stays as it is (url.QueryUnescape would give up on all).
func unPercent(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unHex undoes \xNN escapes (and \\x as bots double them).
func unHex(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && ishex(s[i+2]) && ishex(s[i+3]) {
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// payloadCommands are what injected command lines run; a field whose
// parse runs one of them, with shell syntax around it, is an injection.
var payloadCommands = map[string]bool{
	"wget": true, "curl": true, "tftp": true, "ftpget": true, "sh": true, "bash": true, "ash": true,
	"chmod": true, "cd": true, "rm": true, "nc": true, "ncat": true, "telnet": true, "telnetd": true,
	"busybox": true, "echo": true, "printf": true, "cat": true, "id": true, "uname": true, "whoami": true,
	"reboot": true, "killall": true, "kill": true, "mkdir": true, "cp": true, "mv": true, "ping": true,
	"nslookup": true, "base64": true, "eval": true, "exec": true, "nohup": true, "chattr": true,
	"iptables": true, "crontab": true, "python": true, "perl": true, "php": true, "ls": true,
	"ifconfig": true, "ps": true, "dd": true, "awk": true, "sleep": true, "tftpd": true, "ftpd": true,
}

// inject reports whether d is an injected command line and what it
// downloads. The shell's syntax must be there ($(…), backticks, a chain,
// ${IFS}), so form fields holding plain words are not taken for commands;
// a value that starts by closing a quote (username=';wget …) is read as
// the shell reads it after the quote it closes.
func inject(d string) (Injection, bool) {
	if !strings.ContainsAny(d, ";|&`$\n") {
		return Injection{}, false
	}
	for _, src := range []string{d, "'" + d, `"` + d} {
		sc := shell.Scan(src)
		if len(sc.Downloads) > 0 || slices.ContainsFunc(sc.Commands, func(c string) bool { return payloadCommands[c] }) {
			return Injection{Command: d, Downloads: sc.Downloads}, true
		}
		if !strings.ContainsAny(d, `'"`) {
			break
		}
	}
	return Injection{}, false
}
