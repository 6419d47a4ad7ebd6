package vpn

import (
	"crypto/sha256"
	"embed"
	"fmt"
	"io/fs"
	mrand "math/rand/v2"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Profiles are data: profiles/<name>.yaml says how one appliance answers
// (status lines, headers in order, pages, login forms, its certificate),
// profiles/<name>/ holds its pages. What scanners check to fingerprint an
// appliance is what the profile must get right.
//
//go:embed profiles
var profileFS embed.FS

// Profile is one appliance's portal.
type Profile struct {
	Name    string `yaml:"name"`
	Product string `yaml:"product"` // as scanners name it
	Vendor  string `yaml:"vendor"`
	Port    int    `yaml:"port"` // default loopback port
	// EchoVersion answers an HTTP/1.0 request with HTTP/1.0, as FortiOS
	// and PAN-OS do; otherwise every answer is HTTP/1.1.
	EchoVersion bool `yaml:"echo_version"`
	// Headers follow every answer's own headers.
	Headers []string `yaml:"headers"`
	// Cert is the subject of the certificate the appliance makes for
	// itself; CN may hold placeholders drawn per installation.
	Cert struct {
		C    string `yaml:"C"`
		ST   string `yaml:"ST"`
		L    string `yaml:"L"`
		O    string `yaml:"O"`
		OU   string `yaml:"OU"`
		CN   string `yaml:"CN"`
		Days int    `yaml:"days"`
	} `yaml:"cert"`
	Routes   []*Route `yaml:"routes"`
	NotFound *Route   `yaml:"not_found"`
	// BadRequest is sent as is to a request that does not parse (or the
	// file BadRequestPage).
	BadRequest     string `yaml:"bad_request"`
	BadRequestPage string `yaml:"bad_request_page"`
}

// Route is one answer.
type Route struct {
	Path    string   `yaml:"path"`
	Prefix  bool     `yaml:"prefix"`
	Methods []string `yaml:"methods"`
	// NoHost limits the route to requests without a Host header (the
	// HTTP/1.0 probes of nmap and other scanners).
	NoHost  bool     `yaml:"no_host"`
	Status  int      `yaml:"status"`
	Reason  string   `yaml:"reason"`
	Headers []string `yaml:"headers"`
	Page    string   `yaml:"page"`
	Body    string   `yaml:"body"`
	Close   bool     `yaml:"close"`
	// Login marks a login form handler: its fields are recorded, the
	// answer is the failure the appliance gives.
	Login *Login `yaml:"login"`

	body []byte
}

// Login names the form fields of a login request.
type Login struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	Realm    string `yaml:"realm"`
}

var profiles = map[string]*Profile{}

func init() {
	names, err := fs.Glob(profileFS, "profiles/*.yaml")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		p, err := loadProfile(n)
		if err != nil {
			panic(err)
		}
		profiles[p.Name] = p
	}
}

// Profiles returns the profile names, sorted.
func Profiles() []string {
	out := make([]string, 0, len(profiles))
	for n := range profiles {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func loadProfile(file string) (*Profile, error) {
	b, err := profileFS.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := &Profile{}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("vpn: profile %s: %w", file, err)
	}
	if p.Name == "" || p.Product == "" || p.NotFound == nil || p.Port == 0 {
		return nil, fmt.Errorf("vpn: profile %s: name, product, port and not_found are required", file)
	}
	if p.BadRequestPage != "" {
		b, err := profileFS.ReadFile(path.Join("profiles", p.Name, p.BadRequestPage))
		if err != nil {
			return nil, fmt.Errorf("vpn: profile %s: %w", file, err)
		}
		p.BadRequest = string(b)
	}
	for _, r := range append(slices.Clone(p.Routes), p.NotFound) {
		if r.Status == 0 {
			r.Status = 200
		}
		if r.Reason == "" {
			r.Reason = reasons[r.Status]
		}
		if r.Page != "" {
			if r.body, err = profileFS.ReadFile(path.Join("profiles", p.Name, r.Page)); err != nil {
				return nil, fmt.Errorf("vpn: profile %s: %w", file, err)
			}
		} else {
			r.body = []byte(r.Body)
		}
		for i, m := range r.Methods {
			r.Methods[i] = strings.ToUpper(m)
		}
	}
	return p, nil
}

// reasons are the reason phrases the appliances use.
var reasons = map[int]string{200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
	403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}

// route finds the answer to method and path.
func (p *Profile) route(method, urlPath string, hasHost bool) *Route {
	for _, r := range p.Routes {
		if r.NoHost && hasHost {
			continue
		}
		if r.Prefix && !strings.HasPrefix(urlPath, r.Path) || !r.Prefix && urlPath != r.Path {
			continue
		}
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
			continue
		}
		return r
	}
	return p.NotFound
}

var rePlaceholder = regexp.MustCompile(`\{(digits|hex|alnum):([0-9]+)\}`)

// intn is the part of a random source placeholders need.
type intn interface{ IntN(int) int }

// fill replaces placeholders ({digits:10}, {hex:6}, {alnum:8}) with
// characters drawn from r.
func fill(s string, r intn) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return rePlaceholder.ReplaceAllStringFunc(s, func(m string) string {
		sub := rePlaceholder.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		chars := map[string]string{"digits": "0123456789", "hex": "0123456789abcdef", "alnum": "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"}[sub[1]]
		var b strings.Builder
		for range min(n, 64) {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		return b.String()
	})
}

// seeded is a random source drawn from the installation seed, so what an
// appliance shows of its identity (serial, salt) is stable across
// restarts and differs between installations.
func seeded(seed []byte, label string) *mrand.Rand {
	h := sha256.Sum256(append([]byte("kansoku/vpn/"+label+"\x00"), seed...))
	return mrand.New(mrand.NewChaCha8(h))
}
