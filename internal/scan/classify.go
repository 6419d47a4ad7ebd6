package scan

import (
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Findings the classifier reports.
const (
	FindingTelnetOpen       = "telnet-open"
	FindingLoginPage        = "login-page-exposed"
	FindingNoAuthentication = "no-authentication"
	FindingModbusExposed    = "modbus-exposed"
	FindingDefaultPage      = "default-page"
	// FindingOpenReflector is suffixed with the protocol: "open-reflector:ntp".
	FindingOpenReflector = "open-reflector"
	ClassCritical        = "critical"
)

//go:embed rules.yaml
var defaultRules []byte

// Rule maps observed facts to a device identity. Every condition in Match
// must hold; each is a case-insensitive regular expression, except favicon,
// a list of Shodan-style hashes.
type Rule struct {
	ID         string            `yaml:"id"`
	Match      map[string]string `yaml:"match"`
	Favicon    []int32           `yaml:"favicon"`
	Vendor     string            `yaml:"vendor"`
	Product    string            `yaml:"product"`
	DeviceType string            `yaml:"device_type"`
	Class      string            `yaml:"class"`
	Findings   []string          `yaml:"findings"`

	res []fieldRE // cheapest fields first: a rule fails before its body regexp runs
}

type fieldRE struct {
	field string
	re    *regexp.Regexp
}

// fieldCost orders a rule's conditions: short facts before banners and
// page bodies, which can be long.
func fieldCost(f string) int {
	switch f {
	case "service", "vendor", "product":
		return 0
	case "title":
		return 1
	case "banner":
		return 3
	case "body":
		return 4
	}
	return 2 // headers
}

// Rules is a parsed rule set.
type Rules struct{ rules []*Rule }

var matchFields = map[string]bool{
	"service": true, "banner": true, "title": true, "body": true, "vendor": true, "product": true,
}

// ParseRules parses a YAML rule file (`rules: [...]`).
func ParseRules(b []byte) (*Rules, error) {
	var doc struct {
		Rules []*Rule `yaml:"rules"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("scan: parse rules: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range doc.Rules {
		if r.ID == "" || seen[r.ID] {
			return nil, fmt.Errorf("scan: rules: missing or duplicate id %q", r.ID)
		}
		seen[r.ID] = true
		if len(r.Match) == 0 && len(r.Favicon) == 0 {
			return nil, fmt.Errorf("scan: rules: %s: no conditions", r.ID)
		}
		r.res = nil
		for k, v := range r.Match {
			if !matchFields[k] && !strings.HasPrefix(k, "header.") {
				return nil, fmt.Errorf("scan: rules: %s: unknown field %q", r.ID, k)
			}
			re, err := regexp.Compile("(?i)" + v)
			if err != nil {
				return nil, fmt.Errorf("scan: rules: %s: %s: %w", r.ID, k, err)
			}
			r.res = append(r.res, fieldRE{k, re})
		}
		sort.SliceStable(r.res, func(i, j int) bool {
			ci, cj := fieldCost(r.res[i].field), fieldCost(r.res[j].field)
			if ci != cj {
				return ci < cj
			}
			return r.res[i].field < r.res[j].field
		})
	}
	return &Rules{rules: doc.Rules}, nil
}

var (
	rulesOnce sync.Once
	rulesDef  *Rules
)

// DefaultRules returns the embedded rule set.
func DefaultRules() *Rules {
	rulesOnce.Do(func() {
		r, err := ParseRules(defaultRules)
		if err != nil {
			panic(err) // the embedded file is tested
		}
		rulesDef = r
	})
	return rulesDef
}

func (r *Rule) matches(f *Facts) bool {
	if len(r.Favicon) > 0 {
		if f.FaviconHash == nil {
			return false
		}
		ok := false
		for _, h := range r.Favicon {
			ok = ok || h == *f.FaviconHash
		}
		if !ok {
			return false
		}
	}
	for _, c := range r.res {
		k, re := c.field, c.re
		var v string
		switch k {
		case "service":
			v = f.Service
		case "banner":
			v = f.Banner
		case "title":
			v = f.Title
		case "body":
			v = f.Body
		case "vendor":
			v = f.Vendor
		case "product":
			v = f.Product
		default:
			v = f.Headers[strings.TrimPrefix(k, "header.")]
		}
		if !re.MatchString(v) {
			return false
		}
	}
	return true
}

// Classify fills hr's classification and findings from its module results.
func Classify(rules *Rules, hr *HostResult) {
	var c Classification
	findings := map[string]bool{}
	names := make([]string, 0, len(hr.Data))
	for n := range hr.Data {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := hr.Data[n]
		if d.Status != StatusSuccess {
			continue
		}
		fr, ok := d.Result.(Facter)
		if !ok {
			continue
		}
		f := fr.Facts()
		if f.Service == "" {
			f.Service = n
		}
		for _, r := range rules.rules {
			if !r.matches(&f) {
				continue
			}
			c.Rules = append(c.Rules, r.ID)
			if c.Product == "" && r.Product != "" {
				c.Vendor, c.Product = r.Vendor, r.Product
			}
			if c.Vendor == "" {
				c.Vendor = r.Vendor
			}
			if c.DeviceType == "" {
				c.DeviceType = r.DeviceType
			}
			if r.Class != "" && c.Class != ClassCritical {
				c.Class = r.Class
			}
			for _, x := range r.Findings {
				findings[x] = true
			}
		}
		if c.Product == "" && f.Product != "" {
			c.Vendor, c.Product = f.Vendor, f.Product
		}
		switch f.Service {
		case "telnet":
			findings[FindingTelnetOpen] = true
		case "modbus":
			findings[FindingModbusExposed] = true
		}
		if f.PasswordForm || (f.StatusCode == 401 && f.Headers["www-authenticate"] != "") {
			findings[FindingLoginPage] = true
		}
		if f.Reflector {
			findings[FindingOpenReflector+":"+f.Service] = true
		}
	}
	// A monitoring or control device answering 200 with its data and no
	// login form is readable by anyone.
	if c.Class == ClassCritical {
		for _, n := range names {
			d := hr.Data[n]
			if fr, ok := d.Result.(Facter); ok && d.Status == StatusSuccess {
				f := fr.Facts()
				if f.StatusCode == 200 && !f.PasswordForm {
					findings[FindingNoAuthentication] = true
				}
			}
		}
	}
	if c.Vendor != "" || c.Product != "" || c.DeviceType != "" || c.Class != "" || len(c.Rules) > 0 {
		hr.Classification = &c
	}
	hr.Findings = hr.Findings[:0]
	for f := range findings {
		hr.Findings = append(hr.Findings, f)
	}
	sort.Strings(hr.Findings)
	if len(hr.Findings) == 0 {
		hr.Findings = nil
	}
}
