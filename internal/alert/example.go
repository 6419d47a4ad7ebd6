package alert

import "github.com/kansoku/kansoku/internal/config"

func init() { config.RegisterExample("alerts", Example) }

// Example is the commented `alerts:` section for `kansoku config example`.
const Example = `  # Subscribers and what they get; only verified subscriptions receive alerts.
  # kinds: amp-victim (a reflection DDoS against an address in prefixes/asns),
  # infected-host (such a host attacked our honeypots), exposed-host (scanner finding).
  subscriptions: []
  #  - id: noc-1
  #    name: Example NOC
  #    prefixes: [192.0.2.0/24]
  #    asns: [64500]
  #    kinds: [amp-victim]
  #    webhook: {url: "https://hooks.noc.invalid/kansoku", secret: "at least 16 bytes of secret"}
  #    mail: {to: [noc@operator.invalid]}
  #    verified: true
  # Mail relay for mail subscriptions.
  smtp:
    host: 127.0.0.1
    port: 25
    from: kansoku@localhost
    username: ""
    password: ""
    starttls: false
  # Tries per delivery before it goes to the dead-letter list.
  max_attempts: 6
  # First retry delay; doubled per retry, with jitter.
  backoff: 5s
  # Bound on one delivery attempt.
  timeout: 10s
  # Daily digest: at digest_hour (UTC) each verified subscription with
  # something to report gets the previous UTC day's rows about its networks,
  # one CSV per report layout, through its webhook/mail. Sent once per day,
  # across restarts (the last day sent is kept in data_dir/alerts/digest.last).
  digest: false
  digest_hour: 6
  workers: 4
  queue_size: 1024
`
