package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func init() { registerDeriver(func() tableDeriver { return mergedAttackDeriver{} }) }

type mergedAttackDeriver struct{}

func (mergedAttackDeriver) Flush(context.Context, *sql.Tx) error { return nil }

func (mergedAttackDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	a, ok := store.AttackPartOf(e)
	if !ok {
		return nil
	}
	ended := 0
	if a.Ended {
		ended = 1
	}
	var merged string
	err := tx.QueryRowContext(ctx, `SELECT merged_id FROM attack_parts WHERE attack_id = ?`, a.ID).Scan(&merged)
	if errors.Is(err, sql.ErrNoRows) {
		// A new view: join an attack on the same victim and protocol that
		// was active within the gap, or start one.
		err = tx.QueryRowContext(ctx, `SELECT id FROM merged_attacks WHERE victim = ? AND protocol = ? AND last >= ? AND start <= ? ORDER BY last DESC LIMIT 1`,
			a.Victim.String(), a.Protocol, a.Start.Add(-store.MergeGap).UnixNano(), a.Last.Add(store.MergeGap).UnixNano()).Scan(&merged)
		if errors.Is(err, sql.ErrNoRows) {
			merged = a.ID
			_, err = tx.ExecContext(ctx, `INSERT INTO merged_attacks (id, victim, protocol, start, last, request, country, asn) VALUES (?,?,?,?,?,?,?,?)`,
				merged, a.Victim.String(), a.Protocol, a.Start.UnixNano(), a.Last.UnixNano(), e.Text("request"), e.Str("src_country"), e.Int("src_asn"))
		}
		if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	// Sensors report cumulative figures, so a part keeps the largest seen
	// (events of one attack may arrive out of order).
	_, err = tx.ExecContext(ctx, `INSERT INTO attack_parts (attack_id, merged_id, sensor, port, start, last, ended, packets, request_bytes, reply_bytes, peak_pps)
		VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(attack_id) DO UPDATE SET
		start = min(start, excluded.start), last = max(last, excluded.last), ended = max(ended, excluded.ended),
		packets = max(packets, excluded.packets), request_bytes = max(request_bytes, excluded.request_bytes),
		reply_bytes = max(reply_bytes, excluded.reply_bytes), peak_pps = max(peak_pps, excluded.peak_pps)`,
		a.ID, merged, e.Sensor, e.Int("port"), a.Start.UnixNano(), a.Last.UnixNano(), ended, e.Int("packets"), e.Int("request_bytes"), e.Int("reply_bytes"), store.FloatOf(e.Data["peak_pps"]))
	if err != nil {
		return err
	}
	return remerge(ctx, tx, merged)
}

// remerge recomputes a merged attack from its parts.
func remerge(ctx context.Context, tx *sql.Tx, id string) error {
	rows, err := tx.QueryContext(ctx, `SELECT sensor, port, start, last, ended, packets, request_bytes, reply_bytes, peak_pps FROM attack_parts WHERE merged_id = ?`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	sensors, ports := map[string]bool{}, map[int]bool{}
	var start, last, packets, reqB, repB int64
	var peak float64
	allEnded := true
	for rows.Next() {
		var s string
		var port, st, la, en, pk, rq, rp int64
		var pps float64
		if err := rows.Scan(&s, &port, &st, &la, &en, &pk, &rq, &rp, &pps); err != nil {
			return err
		}
		sensors[s], ports[int(port)] = true, true
		if start == 0 || st < start {
			start = st
		}
		last = max(last, la)
		allEnded = allEnded && en == 1
		packets, reqB, repB = packets+pk, reqB+rq, repB+rp
		// Different sensors are different reflectors: the victim received
		// the sum of their rates at the peak, at most.
		peak += pps
	}
	if err := rows.Err(); err != nil {
		return err
	}
	ended := 0
	if allEnded {
		ended = 1
	}
	_, err = tx.ExecContext(ctx, `UPDATE merged_attacks SET sensors = ?, ports = ?, start = ?, last = ?, ended = ?, packets = ?, request_bytes = ?, reply_bytes = ?, peak_pps = ? WHERE id = ?`,
		jsonKeys(sensors), jsonInts(ports), start, last, ended, packets, reqB, repB, peak, id)
	return err
}

func jsonKeys(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	b, _ := json.Marshal(out)
	return string(b)
}

func jsonInts(m map[int]bool) string {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	b, _ := json.Marshal(out)
	return string(b)
}

// MergedAttacks implements store.AttackStore, newest first.
func (db *DB) MergedAttacks(ctx context.Context, q store.AttackQuery) ([]store.MergedAttack, error) {
	var where []string
	var args []any
	if q.Protocol != "" {
		where, args = append(where, "protocol = ?"), append(args, q.Protocol)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "last >= ?"), append(args, q.Since.UnixNano())
	}
	if q.Sensor != "" {
		where, args = append(where, "EXISTS (SELECT 1 FROM json_each(merged_attacks.sensors) WHERE value = ?)"), append(args, q.Sensor)
	}
	if q.Victim.IsValid() && q.Victim.IsSingleIP() {
		where, args = append(where, "victim = ?"), append(args, q.Victim.Addr().String())
	}
	if q.After != "" {
		seq, err := store.DecodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		where, args = append(where, "seq < ?"), append(args, seq)
	}
	limit := store.PageLimit(q.Limit)
	query := `SELECT seq, id, victim, protocol, ports, sensors, start, last, ended, packets, request_bytes, reply_bytes, peak_pps, request, country, asn FROM merged_attacks`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY seq DESC"
	if !q.Victim.IsValid() || q.Victim.IsSingleIP() {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: attacks: %w", err)
	}
	defer rows.Close()
	var out []store.MergedAttack
	for rows.Next() && len(out) < limit {
		var a store.MergedAttack
		var seq, start, last int64
		var victim, ports, sensors string
		var ended int
		if err := rows.Scan(&seq, &a.ID, &victim, &a.Protocol, &ports, &sensors, &start, &last, &ended, &a.Packets, &a.RequestBytes, &a.ReplyBytes, &a.PeakPPS, &a.Request, &a.Country, &a.ASN); err != nil {
			return nil, err
		}
		a.Victim, _ = netip.ParseAddr(victim)
		if q.Victim.IsValid() && !q.Victim.Contains(a.Victim) {
			continue
		}
		_ = json.Unmarshal([]byte(ports), &a.Ports)
		_ = json.Unmarshal([]byte(sensors), &a.Sensors)
		a.Start, a.Last, a.Ended, a.Cursor = time.Unix(0, start).UTC(), time.Unix(0, last).UTC(), ended == 1, store.EncodeCursor(seq)
		out = append(out, a)
	}
	return out, rows.Err()
}
