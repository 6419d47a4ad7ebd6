package alert

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestYAMLConfig(t *testing.T) {
	src := `
subscriptions:
  - id: noc-1
    name: Example NOC
    prefixes: [192.0.2.0/24, "2001:db8::/32"]
    asns: [64500]
    kinds: [amp-victim, infected-host]
    webhook: {url: "https://hooks.example.net/kansoku", secret: "0123456789abcdef0123"}
    mail: {to: [noc@example.net]}
    verified: true
smtp: {host: mail.example.net, port: 587, from: kansoku@example.org, username: u, password: p, starttls: true}
max_attempts: 8
backoff: 10s
timeout: 5s
digest_hour: 7
`
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := cfg.Subscriptions[0]
	if len(s.Prefixes) != 2 || s.Prefixes[1].String() != "2001:db8::/32" || s.ASNs[0] != 64500 || !s.Verified ||
		s.Webhook.Secret == "" || cfg.SMTP.Port != 587 || !cfg.SMTP.StartTLS || cfg.MaxAttempts != 8 || cfg.Workers != 4 {
		t.Fatalf("decoded %+v", cfg)
	}
}

func TestExampleDecodes(t *testing.T) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(strings.ReplaceAll(Example, "\n  ", "\n")[2:]))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if cfg.SMTP != d.SMTP || cfg.MaxAttempts != d.MaxAttempts || cfg.Backoff != d.Backoff || cfg.Timeout != d.Timeout ||
		cfg.DigestHour != d.DigestHour || cfg.Workers != d.Workers || cfg.QueueSize != d.QueueSize || len(cfg.Subscriptions) != 0 {
		t.Fatalf("example differs from the defaults: %+v", cfg)
	}
}
