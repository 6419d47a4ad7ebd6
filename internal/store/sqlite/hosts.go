package sqlite

import (
	"context"
	"database/sql"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() {
	registerDeriver(func() tableDeriver { return &hostDeriver{stmts: map[string]*sql.Stmt{}} })
}

// hostDeriver keeps the hosts table at the scanner's newest view, and
// host_findings in step with it: a row's findings are replaced whenever
// the row is.
type hostDeriver struct {
	// stmts are prepared once per transaction, which closes them: a scan
	// batch runs the same three statements for every result.
	stmts map[string]*sql.Stmt
}

func (d *hostDeriver) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, ok := d.stmts[query]
	if !ok {
		var err error
		if st, err = tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		d.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

func (d *hostDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	h, ok := store.HostResultOf(e)
	if !ok {
		return nil
	}
	t := e.Time.UnixNano()
	ip := e.DstIP.String()
	res, err := d.exec(ctx, tx, `INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen, ip_key, crit)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, crit = excluded.crit, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = min(first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		ip, e.DstPort, h.Transport, h.Service, h.Vendor, h.Product, h.DeviceType, h.Class,
		store.JSONList(h.Findings, nil), store.JSONList(h.Labels, nil), h.Template, t, t, ipKey(e.DstIP), h.Class == "critical")
	if err != nil {
		return err
	}
	// An older result changed nothing, and the findings stay as they are.
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := d.exec(ctx, tx, `DELETE FROM host_findings WHERE ip = ? AND port = ? AND transport = ?`, ip, e.DstPort, h.Transport); err != nil {
		return err
	}
	_, err = d.exec(ctx, tx, hostFindingsSQL+` hosts.ip = ? AND hosts.port = ? AND hosts.transport = ?`, ip, e.DstPort, h.Transport)
	return err
}

// hostFindingsSQL fills host_findings from the hosts rows a WHERE clause
// appended to it selects: the same derivation as migration 013's backfill
// (which ran before hosts had crit).
// Only strings are findings; a list may repeat one.
const hostFindingsSQL = `INSERT OR IGNORE INTO host_findings (ip, port, transport, finding, crit, last_seen, ip_key)
	SELECT hosts.ip, hosts.port, hosts.transport, j.value, hosts.crit, hosts.last_seen, hosts.ip_key
	FROM hosts, json_each(hosts.findings) j WHERE j.type = 'text' AND`

func (*hostDeriver) Flush(context.Context, *sql.Tx) error { return nil }
