package sqlite

import (
	"context"
	"database/sql"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() { registerDeriver(func() tableDeriver { return hostDeriver{} }) }

// hostDeriver keeps the hosts table at the scanner's newest view.
type hostDeriver struct{}

func (hostDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	h, ok := store.HostResultOf(e)
	if !ok {
		return nil
	}
	t := e.Time.UnixNano()
	_, err := tx.ExecContext(ctx, `INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen, ip_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = min(first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		e.DstIP.String(), e.DstPort, h.Transport, h.Service, h.Vendor, h.Product, h.DeviceType, h.Class,
		store.JSONList(h.Findings, nil), store.JSONList(h.Labels, nil), h.Template, t, t, ipKey(e.DstIP))
	return err
}

func (hostDeriver) Flush(context.Context, *sql.Tx) error { return nil }
