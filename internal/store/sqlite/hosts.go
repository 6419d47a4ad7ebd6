package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/kansoku/kansoku/internal/event"
)

func init() { registerDeriver(func() tableDeriver { return hostDeriver{} }) }

// hostDeriver keeps the hosts table at the scanner's newest view.
type hostDeriver struct{}

func (hostDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	if e.Kind != "scan.result" || !e.DstIP.IsValid() {
		return nil
	}
	service := ""
	if data, ok := e.Data["data"].(map[string]any); ok {
		for name, v := range data {
			if m, ok := v.(map[string]any); ok && m["status"] == "success" && (service == "" || name < service) {
				service = name
			}
		}
	}
	cl, _ := e.Data["classification"].(map[string]any)
	str := func(k string) string { s, _ := cl[k].(string); return s }
	findings := jsonList(e.Data["findings"])
	labels := jsonList(e.Data["labels"])
	t := e.Time.UnixNano()
	transport := e.Transport
	if transport == "" {
		transport = "tcp"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen, ip_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = min(first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		e.DstIP.String(), e.DstPort, transport, service, str("vendor"), str("product"), str("device_type"), str("class"),
		findings, labels, e.Str("template"), t, t, ipKey(e.DstIP))
	return err
}

func (hostDeriver) Flush(context.Context, *sql.Tx) error { return nil }

func jsonList(v any) string {
	l, ok := v.([]any)
	if !ok {
		return "[]"
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "[]"
	}
	return string(b)
}
