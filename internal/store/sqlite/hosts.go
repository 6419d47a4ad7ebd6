package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
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
	_, err := tx.ExecContext(ctx, `INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = min(first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		e.DstIP.String(), e.DstPort, transport, service, str("vendor"), str("product"), str("device_type"), str("class"),
		findings, labels, e.Str("template"), t, t)
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

// Hosts implements store.HostStore.
func (db *DB) Hosts(ctx context.Context, q store.HostQuery) ([]store.Host, error) {
	var where []string
	var args []any
	if q.IP.IsValid() {
		where, args = append(where, "ip = ?"), append(args, q.IP.Unmap().String())
	}
	if q.Class != "" {
		where, args = append(where, "class = ?"), append(args, q.Class)
	}
	if q.Finding != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM json_each(hosts.findings) WHERE value = ?)"), append(args, q.Finding)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "last_seen >= ?"), append(args, q.Since.UnixNano())
	}
	limit := q.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	query := `SELECT ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen FROM hosts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY last_seen DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	defer rows.Close()
	var out []store.Host
	for rows.Next() {
		var h store.Host
		var ip, findings, labels string
		var first, last int64
		if err := rows.Scan(&ip, &h.Port, &h.Transport, &h.Service, &h.Vendor, &h.Product, &h.DeviceType, &h.Class, &findings, &labels, &h.Template, &first, &last); err != nil {
			return nil, err
		}
		h.IP, _ = netip.ParseAddr(ip)
		if q.Prefix.IsValid() && !q.Prefix.Contains(h.IP) {
			continue
		}
		_ = json.Unmarshal([]byte(findings), &h.Findings)
		_ = json.Unmarshal([]byte(labels), &h.Labels)
		h.FirstSeen, h.LastSeen = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}
