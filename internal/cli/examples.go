package cli

import "github.com/kansoku/kansoku/internal/config"

// The commented examples of the sections other packages own, shown by
// `kansoku config example`.
func init() {
	config.RegisterExample("capture", `  # The safe fetcher that downloads what bots point at (wget, curl, tftp, ftpget).
  # Private, loopback, link-local, multicast and reserved addresses are refused
  # unless listed here (CIDRs).
  allow_networks: []
  # Always refused, checked before allow_networks.
  deny_networks: []
  # Size and time caps of one download.
  max_bytes: 16777216
  timeout: 1m0s
  # Downloads in flight across all sessions.
  max_concurrent: 8
  # One host is fetched at most once per interval; one URL once per window (cached).
  per_host_interval: 10s
  cache_window: 1h0m0s
`)
	config.RegisterExample("scan", `  # Scheduled scans inside serve. Only what is listed here is ever scanned;
  # the exclusion list is always honoured. No targets: no scans.
  targets: []
  # Ports like "22,80,8000-8010,udp:53".
  ports: []
  # Probes per second (token bucket).
  rate: 100
  exclude_file: ""
  exclude: []
  # Grab modules ("name" or "name:port"); empty = every module on its default port.
  modules: []
  # connect (no privileges) or syn (needs CAP_NET_RAW).
  discovery: connect
  concurrency: 256
  connect_timeout: 2s
  timeout: 5s
  retries: 1
  # Repeat the scan this often; 0 = once at start.
  interval: 0s
  checkpoint_file: ""
  seed: 0
  cluster_buffer: 100000
`)
}
