package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/kansoku/kansoku/internal/sensor"
)

// Section examples registered by the packages that own the sections.
var sectionExamples = map[string]string{}

// RegisterExample adds the commented YAML of a section another package owns
// (capture, analysis, alerts, scan) to `kansoku config example`.
func RegisterExample(section, body string) { sectionExamples[section] = body }

const coreExample = `# kansoku configuration. Every key is optional: the values shown are the
# defaults. Unknown keys and bad values are errors that name the key and line.

# Where the embedded bus, the database, spools and recordings live.
data_dir: kansoku-data
# This sensor host's or site's id, stamped on every event (default: the host name).
sensor_name: ""

log:
  # debug, info, warn or error.
  level: info
  # text or json.
  format: text

bus:
  # An external NATS server or cluster (nats://host:4222). Empty: kansoku
  # embeds a NATS server with JetStream under data_dir, reachable in-process only.
  url: ""
  # Expose the embedded NATS server on this address (e.g. 127.0.0.1:4222) so
  # that other kansoku processes can join. Empty: no port is opened.
  listen: ""
  # Events and samples are spooled on disk before they reach the bus, so a
  # sensor whose bus is down loses nothing; this caps the spool.
  spool_max_bytes: 1073741824
  # JetStream replicas of the streams (set 3 on a 3-node cluster). Only the
  # collector (creating what is missing) and 'kansoku bus init' (changing
  # what exists) apply it; other processes warn when the streams differ.
  replicas: 1
  # How long a spooled event may wait for fsync(2): what a power loss can
  # take. "always" syncs before each event is taken (slower), "never" leaves
  # it to the kernel. A killed or crashed kansoku process loses nothing
  # either way: every event is written before Emit returns (docs/deploy.md).
  spool_fsync: 1s
  samples:
    # Largest sample a sensor keeps; larger ones are refused and counted.
    max_bytes: 67108864
    # Total size of the samples bucket; 0: unbounded.
    budget_bytes: 21474836480
    # At the budget: oldest (delete the oldest samples first) or refuse
    # (keep what is stored, drop the new sample).
    policy: oldest

store:
  # sqlite (pure Go, one file under data_dir) or postgres (for many
  # sensors; docs/store.md).
  driver: sqlite
  # sqlite: the database file; empty means data_dir/kansoku.db.
  # postgres: required, a connection URL or keyword/value string, e.g.
  # postgres://kansoku:PASSWORD@127.0.0.1:5432/kansoku?sslmode=disable
  # (migrations run when kansoku starts).
  dsn: ""

portal:
  # Address of the web portal and API.
  listen: 127.0.0.1:8080
  # Proxies (CIDRs) whose X-Forwarded-For is believed; nobody else's is.
  trusted_proxies: []
  # How far back the infection check (/check, /api/v1/check) looks.
  check_window: 168h0m0s
  # Infection checks one address may make per minute (429 after that);
  # -1: unlimited, for benchmarks only.
  check_per_minute: 30
  # Seed of this instance's MISP and STIX UUIDs. Set it once to something of
  # your own and never change it: every published id depends on it.
  feed_seed: kansoku
  # Who may read the portal's metrics: public (/metrics), or admin
  # (/admin/metrics, a logged-in admin); metrics.listen serves them apart.
  metrics: public
  # The portal's public URL (scheme and host, the outside one when behind a
  # reverse proxy), for links in feeds. Empty: links are relative.
  base_url: ""

collector:
  # Events written to the store per transaction.
  batch_size: 1000
  jsonl:
    # Also write every stored event as JSON lines here (for ELK/Splunk); empty: off.
    path: ""
    # Rotate the file at this size, keeping this many old files.
    max_bytes: 104857600
    keep: 5
    # kansoku (our event JSON) or cowrie (Cowrie's eventid names and fields).
    format: kansoku

metrics:
  # Serve /metrics (Prometheus) and /healthz (200 ok, or 503 degraded with
  # the problems) on this address in every process: sensor, collector,
  # worker, portal and serve. Empty: none; the portal serves both anyway.
  listen: ""

geoip:
  # MaxMind-format databases (.mmdb). A missing file means no enrichment.
  # Country: e.g. a CC0 country database in MaxMind format. ASN: convert a
  # CSV (ip_range_start,ip_range_end,asn,organization) with 'kansoku geoip import'.
  country: ""
  asn: ""
`

// WriteExample writes the commented full configuration.
func WriteExample(w io.Writer) error {
	var b strings.Builder
	b.WriteString(coreExample)
	for _, name := range []string{"capture", "analysis", "alerts", "scan"} {
		if ex, ok := sectionExamples[name]; ok {
			fmt.Fprintf(&b, "\n%s:\n%s", name, ex)
		}
	}
	b.WriteString(`
# Sensors, by instance name. The instance name is the sensor type unless
# 'type' says otherwise (run several banner sensors as banner-21, banner-25, …).
# Keys every sensor has: enabled, listen, and the runner's protections:
#   max_sessions (concurrent, all sources), max_sessions_per_ip,
#   idle_timeout, session_timeout (total), max_bytes (client bytes per session),
#   login_timeout (telnet/ssh: time to log in), ipv6_prefix (IPv6 sources are
#   counted per prefix of this length, 64 by default).
sensors:
`)
	for _, f := range sensor.Factories() {
		l := sensor.DefaultLimits()
		if f.Instances != nil {
			fmt.Fprintf(&b, "  # %s\n  # Runs by default as the instances below (type %s); set enabled: false to turn one off.\n", f.Summary, f.Name)
			b.WriteString("  # Keys every instance accepts, with their defaults:\n")
			for _, line := range strings.Split(strings.TrimRight(f.Example, "\n"), "\n") {
				line = strings.TrimPrefix(line, "  ")
				if strings.HasPrefix(line, "#") {
					b.WriteString("  " + line + "\n")
				} else {
					b.WriteString("  #   " + line + "\n")
				}
			}
			for _, di := range f.Instances() {
				fmt.Fprintf(&b, "  %s:\n    enabled: %v\n    listen: %q\n", di.Name, f.Enabled, di.Listen)
				for _, line := range strings.Split(strings.TrimRight(di.Config, "\n"), "\n") {
					if line != "" {
						b.WriteString("    " + line + "\n")
					}
				}
			}
			continue
		}
		fmt.Fprintf(&b, "  # %s\n  %s:\n    enabled: %v\n    listen: %q\n    max_sessions: %d\n    max_sessions_per_ip: %d\n    idle_timeout: %s\n    session_timeout: %s\n    max_bytes: %d\n    login_timeout: %s\n    ipv6_prefix: %d\n",
			f.Summary, f.Name, f.Enabled, f.DefaultListen, l.MaxSessions, l.MaxSessionsPerIP, l.IdleTimeout, l.SessionTimeout, l.MaxBytes, l.LoginTimeout, l.IPv6Prefix)
		for _, line := range strings.Split(strings.TrimRight(f.Example, "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString("  " + line + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
