// Package webprofile holds HTTP device profiles: plain data (a directory
// with profile.yaml and the files it serves) describing how an embedded
// device's web server answers — its headers, realm, login page and login
// form, favicon, status pages, UPnP/SOAP descriptions, the answers of the
// endpoints exploits target, and its timing. A Site is one installation's
// instance of a profile: identity strings (model, firmware, serial, MAC)
// are drawn from the install seed, so no two installations look alike.
//
// Profiles are data so that other packages can add theirs: Register an
// fs.FS of profile directories from an init function, or point the http
// sensor's profiles_dir at a directory.
package webprofile

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed data
var embedded embed.FS

// ErrInvalid wraps every validation failure of a profile.
var ErrInvalid = errors.New("invalid web profile")

// Bounds on one profile.
const (
	maxYAML   = 256 << 10
	maxFile   = 1 << 20
	maxRoutes = 256
)

// Profile is one device's web server as written in profile.yaml.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Device names the internal/profile device the commands injected into
	// this web UI run on; samples fetched through it are analysed on it.
	Device string `yaml:"device"`
	// Identity lists, per name, the values one installation draws from;
	// {name} in headers, bodies and files is replaced by the drawn value.
	// A value may hold {hexN}, {HEXN} or {decN}: N random digits.
	Identity map[string][]string `yaml:"identity"`
	// Headers are sent on every response, in this order ("Name: value").
	Headers []string `yaml:"headers"`
	// Date sends a Date header after Headers, as most device servers do.
	Date bool `yaml:"date"`
	// Close makes every response close the connection (HTTP/1.0 servers).
	Close bool `yaml:"close"`
	// Version, when set, is the status line's protocol whatever the
	// client's (embedded servers often answer HTTP/1.1 to HTTP/1.0).
	Version string `yaml:"version"`
	// Connection, when set, is sent as the first header of every answer
	// ("Connection: Keep-Alive" right after the status line, as some
	// device servers do) instead of the sensor's own at the end.
	Connection string   `yaml:"connection"`
	Auth       Auth     `yaml:"auth"`
	Form       *Form    `yaml:"form"`
	TLS        *TLSSpec `yaml:"tls"`
	// Routes are tried in order; the first whose method and path match answers.
	Routes     []Route `yaml:"routes"`
	NotFound   Route   `yaml:"not_found"`
	BadRequest Route   `yaml:"bad_request"`
	TooLarge   Route   `yaml:"too_large"`
	// Unauthorized answers a route with auth: true before the client
	// authenticates (the sensor adds WWW-Authenticate).
	Unauthorized Route `yaml:"unauthorized"`
	// Timing is the device's think time before each answer.
	Timing Timing `yaml:"timing"`

	dir  string
	fsys fs.FS
}

// Auth is the HTTP authentication the device asks for.
type Auth struct {
	Scheme string `yaml:"scheme"` // basic or digest
	Realm  string `yaml:"realm"`
	// Challenge is the WWW-Authenticate value as the device writes it;
	// {realm} and {nonce} (32 random hex digits per answer) are filled in.
	// Empty: the scheme's plain form.
	Challenge string `yaml:"challenge"`
}

// Form is a login form: a POST to Path with the user and password fields.
type Form struct {
	Path     string `yaml:"path"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	Success  Route  `yaml:"success"`
	Failure  Route  `yaml:"failure"`
}

// TLSSpec is the device's self-signed certificate subject.
type TLSSpec struct {
	CommonName   string `yaml:"common_name"`
	Organization string `yaml:"organization"`
	Country      string `yaml:"country"`
	// Days is the certificate's validity; devices ship certificates
	// valid for ten or twenty years.
	Days int `yaml:"days"`
}

// Route is one answer of the device.
type Route struct {
	Method []string `yaml:"method"`
	// Path is a regular expression matched against the whole URL path.
	Path string `yaml:"path"`
	// Query, when set, must match (unanchored) the raw query.
	Query       string   `yaml:"query"`
	Status      int      `yaml:"status"`
	Reason      string   `yaml:"reason"`
	ContentType string   `yaml:"type"`
	Headers     []string `yaml:"headers"`
	Body        string   `yaml:"body"`
	// File is served as the body, relative to the profile's directory.
	File string `yaml:"file"`
	// Auth: the route asks for the profile's authentication first.
	Auth bool `yaml:"auth"`

	path, query *regexp.Regexp
}

// Timing bounds the think time drawn for each answer.
type Timing struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

var (
	regMu      sync.Mutex
	registered []fs.FS
)

// Register adds the profiles in fsys (one directory per profile, each with
// a profile.yaml) to Defaults. Call it from an init function.
func Register(fsys fs.FS) {
	regMu.Lock()
	registered = append(registered, fsys)
	regMu.Unlock()
}

// Defaults returns the shipped profiles and the registered ones, sorted by
// name; it fails if any is invalid or two share a name.
func Defaults() ([]*Profile, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	out, err := LoadFS(sub, "webprofile/data")
	if err != nil {
		return nil, err
	}
	regMu.Lock()
	extra := slices.Clone(registered)
	regMu.Unlock()
	for _, f := range extra {
		ps, err := LoadFS(f, "registered")
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	if err := unique(out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Load reads every profile under dir (each subdirectory holding a
// profile.yaml, or dir itself).
func Load(dir string) ([]*Profile, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS reads every profile in fsys; name says where fsys comes from in
// error messages.
func LoadFS(fsys fs.FS, name string) ([]*Profile, error) {
	if _, err := fs.Stat(fsys, "profile.yaml"); err == nil {
		p, err := loadOne(fsys, ".", name)
		if err != nil {
			return nil, err
		}
		return []*Profile{p}, nil
	}
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("webprofile: load %s: %w", name, err)
	}
	var out []*Profile
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), "profile.yaml")); err != nil {
			continue
		}
		p, err := loadOne(fsys, e.Name(), path.Join(name, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("webprofile: load %s: %w: no profile.yaml found", name, ErrInvalid)
	}
	if err := unique(out); err != nil {
		return nil, err
	}
	return out, nil
}

func unique(ps []*Profile) error {
	seen := map[string]string{}
	for _, p := range ps {
		if d, ok := seen[p.Name]; ok {
			return fmt.Errorf("webprofile: %s: name: %w: %q also used by %s", p.dir, ErrInvalid, p.Name, d)
		}
		seen[p.Name] = p.dir
	}
	return nil
}

// ByName returns the profile called name, or nil.
func ByName(ps []*Profile, name string) *Profile {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func loadOne(fsys fs.FS, dir, name string) (*Profile, error) {
	file := path.Join(name, "profile.yaml")
	data, err := readBounded(fsys, path.Join(dir, "profile.yaml"), maxYAML)
	if err != nil {
		return nil, fmt.Errorf("webprofile: %s: %w", file, err)
	}
	p := &Profile{dir: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("webprofile: %s: %w: %v", file, ErrInvalid, err)
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	p.fsys = sub
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("webprofile: %s: %w", file, err)
	}
	return p, nil
}

func readBounded(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrInvalid, limit)
	}
	return data, nil
}

var reName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func fieldErr(field, format string, a ...any) error {
	return fmt.Errorf("%s: %w: %s", field, ErrInvalid, fmt.Sprintf(format, a...))
}

func (p *Profile) validate() error {
	if !reName.MatchString(p.Name) {
		return fieldErr("name", "%q: want lower-case letters, digits and dashes", p.Name)
	}
	if p.Device == "" {
		return fieldErr("device", "required (the internal/profile device injected commands run on)")
	}
	for k, vs := range p.Identity {
		if !reName.MatchString(k) || len(vs) == 0 {
			return fieldErr("identity."+k, "want a lower-case name with at least one value")
		}
	}
	if err := checkHeaders("headers", p.Headers); err != nil {
		return err
	}
	switch p.Auth.Scheme {
	case "", "basic", "digest":
	default:
		return fieldErr("auth.scheme", "%q: want basic or digest", p.Auth.Scheme)
	}
	switch p.Version {
	case "", "HTTP/1.0", "HTTP/1.1":
	default:
		return fieldErr("version", "%q: want HTTP/1.0 or HTTP/1.1", p.Version)
	}
	if strings.ContainsAny(p.Connection+p.Auth.Challenge, "\r\n") {
		return fieldErr("connection", "one line only")
	}
	if p.Timing.Min < 0 || p.Timing.Max < p.Timing.Min || p.Timing.Max > 10*time.Second {
		return fieldErr("timing", "want 0 <= min <= max <= 10s")
	}
	if len(p.Routes) > maxRoutes {
		return fieldErr("routes", "more than %d", maxRoutes)
	}
	for i := range p.Routes {
		r := &p.Routes[i]
		if r.Path == "" {
			return fieldErr(fmt.Sprintf("routes[%d].path", i), "required")
		}
		if err := p.checkRoute(fmt.Sprintf("routes[%d]", i), r); err != nil {
			return err
		}
		if r.Auth && p.Auth.Scheme == "" {
			return fieldErr(fmt.Sprintf("routes[%d].auth", i), "the profile has no auth.scheme")
		}
	}
	if p.Form != nil {
		if p.Form.Path == "" || p.Form.User == "" || p.Form.Password == "" {
			return fieldErr("form", "path, user and password are required")
		}
		if err := p.checkRoute("form.success", &p.Form.Success); err != nil {
			return err
		}
		if err := p.checkRoute("form.failure", &p.Form.Failure); err != nil {
			return err
		}
	}
	for _, r := range []struct {
		name   string
		r      *Route
		status int
	}{{"not_found", &p.NotFound, 404}, {"bad_request", &p.BadRequest, 400}, {"too_large", &p.TooLarge, 413}, {"unauthorized", &p.Unauthorized, 401}} {
		if r.r.Status == 0 {
			r.r.Status = r.status
		}
		if err := p.checkRoute(r.name, r.r); err != nil {
			return err
		}
	}
	return nil
}

func (p *Profile) checkRoute(field string, r *Route) error {
	var err error
	if r.Path != "" {
		if r.path, err = regexp.Compile(`^(?:` + r.Path + `)$`); err != nil {
			return fieldErr(field+".path", "%v", err)
		}
	}
	if r.Query != "" {
		if r.query, err = regexp.Compile(r.Query); err != nil {
			return fieldErr(field+".query", "%v", err)
		}
	}
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	if r.Status < 100 || r.Status > 599 {
		return fieldErr(field+".status", "%d out of range", r.Status)
	}
	if r.Reason == "" {
		r.Reason = http.StatusText(r.Status)
	}
	if r.Body != "" && r.File != "" {
		return fieldErr(field, "body and file are exclusive")
	}
	if r.File != "" {
		if !fs.ValidPath(r.File) {
			return fieldErr(field+".file", "%q: want a relative path inside the profile", r.File)
		}
		if _, err := readBounded(p.fsys, r.File, maxFile); err != nil {
			return fieldErr(field+".file", "%v", err)
		}
	}
	for i, m := range r.Method {
		r.Method[i] = strings.ToUpper(m)
	}
	return checkHeaders(field+".headers", r.Headers)
}

func checkHeaders(field string, hs []string) error {
	for i, h := range hs {
		k, _, ok := strings.Cut(h, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(h, "\r\n") {
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "%q: want \"Name: value\" on one line", h)
		}
		switch strings.ToLower(k) {
		case "content-length", "connection", "date", "transfer-encoding":
			return fieldErr(fmt.Sprintf("%s[%d]", field, i), "%s is written by the sensor", k)
		}
	}
	return nil
}
