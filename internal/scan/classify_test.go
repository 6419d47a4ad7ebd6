package scan

import (
	"strings"
	"testing"
)

type factsResult Facts

func (f factsResult) Facts() Facts { return Facts(f) }

func TestDefaultRulesParse(t *testing.T) {
	if len(DefaultRules().rules) < 10 {
		t.Fatal("embedded rules missing")
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := map[string]string{
		"rules: [{id: a}]":                                                "no conditions",
		"rules: [{id: a, match: {colour: x}}]":                            "unknown field",
		"rules: [{id: a, match: {title: '('}}]":                           "title",
		"rules: [{match: {title: x}}]":                                    "missing or duplicate id",
		"rules: [{id: a, match: {title: x}, typo: 1}]":                    "field typo not found",
		"rules: [{id: a, match: {title: x}}, {id: a, match: {title: y}}]": "duplicate",
	}
	for in, want := range tests {
		if _, err := ParseRules([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestClassify(t *testing.T) {
	fav := int32(-1234)
	rules, err := ParseRules([]byte(`rules:
  - {id: fav, favicon: [-1234], vendor: V, product: P, device_type: camera}
  - {id: logger, match: {title: "water level", header.server: "^lighttpd"}, device_type: data-logger, class: critical}
  - {id: nginx, match: {title: "^Welcome to nginx"}, product: nginx, findings: [default-page]}
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     map[string]ModuleResult
		product  string
		class    string
		findings string
	}{
		{"favicon", map[string]ModuleResult{"http": {Status: StatusSuccess, Result: factsResult{Service: "http", FaviconHash: &fav, StatusCode: 401, Headers: map[string]string{"www-authenticate": "Basic"}}}}, "P", "", "login-page-exposed"},
		{"logger", map[string]ModuleResult{"http": {Status: StatusSuccess, Result: factsResult{Service: "http", Title: "Water Level Station", StatusCode: 200, Headers: map[string]string{"server": "lighttpd/1.4"}}}}, "", "critical", "no-authentication"},
		{"logger-login", map[string]ModuleResult{"http": {Status: StatusSuccess, Result: factsResult{Service: "http", Title: "Water Level Station", StatusCode: 200, PasswordForm: true, Headers: map[string]string{"server": "lighttpd/1.4"}}}}, "", "critical", "login-page-exposed"},
		{"header-mismatch", map[string]ModuleResult{"http": {Status: StatusSuccess, Result: factsResult{Service: "http", Title: "Water Level Station", Headers: map[string]string{"server": "nginx"}}}}, "", "", ""},
		{"default", map[string]ModuleResult{"http": {Status: StatusSuccess, Result: factsResult{Service: "http", Title: "Welcome to nginx!"}}}, "nginx", "", "default-page"},
		{"reflector", map[string]ModuleResult{"ntp": {Status: StatusSuccess, Result: factsResult{Service: "ntp", Reflector: true}}}, "", "", "open-reflector:ntp"},
		{"telnet", map[string]ModuleResult{"telnet": {Status: StatusSuccess, Result: factsResult{Service: "telnet"}}}, "", "", "telnet-open"},
		{"failed grab", map[string]ModuleResult{"telnet": {Status: StatusIOTimeout, Result: factsResult{Service: "telnet"}}}, "", "", ""},
	}
	for _, tt := range tests {
		hr := &HostResult{Data: tt.data}
		Classify(rules, hr)
		var product, class string
		if hr.Classification != nil {
			product, class = hr.Classification.Product, hr.Classification.Class
		}
		if product != tt.product || class != tt.class || strings.Join(hr.Findings, ",") != tt.findings {
			t.Errorf("%s: product %q class %q findings %v", tt.name, product, class, hr.Findings)
		}
	}
}
