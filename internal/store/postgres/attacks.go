package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// remergeSQL recomputes a merged attack from its parts. Different sensors
// are different reflectors: the victim received the sum of their peak
// rates, at most.
const remergeSQL = `UPDATE merged_attacks m SET sensors = p.sensors, ports = p.ports, start = p.start, last = p.last, ended = p.ended,
		packets = p.packets, request_bytes = p.rq, reply_bytes = p.rp, peak_pps = p.pps
	FROM (SELECT jsonb_agg(DISTINCT sensor ORDER BY sensor) AS sensors, jsonb_agg(DISTINCT port ORDER BY port) AS ports,
		min(start) AS start, max(last) AS last, bool_and(ended) AS ended, sum(packets)::bigint AS packets,
		sum(request_bytes)::bigint AS rq, sum(reply_bytes)::bigint AS rp, sum(peak_pps) AS pps
		FROM attack_parts WHERE merged_id = $1) p
	WHERE m.id = $1`

// attack files one sensor's view of an amplification attack and merges it
// with other sensors' views of the same victim and protocol.
func (d *deriver) attack(ctx context.Context, e *event.Event) error {
	p, ok := store.AttackPartOf(e)
	if !ok {
		return nil
	}
	aid, victim, proto, start, last := clean(p.ID), p.Victim, clean(p.Protocol), p.Start, p.Last
	// The lookups below must see what this batch queued so far.
	if err := d.send(ctx); err != nil {
		return err
	}
	var merged string
	err := d.tx.QueryRow(ctx, `SELECT merged_id FROM attack_parts WHERE attack_id = $1`, aid).Scan(&merged)
	if errors.Is(err, pgx.ErrNoRows) {
		// A new view: join an attack on the same victim and protocol that
		// was active within the gap, or start one.
		err = d.tx.QueryRow(ctx, `SELECT id FROM merged_attacks WHERE victim = $1::inet AND protocol = $2 AND last >= $3 AND start <= $4 ORDER BY last DESC LIMIT 1`,
			addr(victim), proto, start.Add(-store.MergeGap), last.Add(store.MergeGap)).Scan(&merged)
		if errors.Is(err, pgx.ErrNoRows) {
			merged, err = aid, nil
			d.queue(`INSERT INTO merged_attacks (id, victim, protocol, start, last, request, country, asn) VALUES ($1, $2::inet, $3, $4, $5, $6, $7, $8)`,
				merged, addr(victim), proto, start, last, clean(e.Text("request")), clean(e.Str("src_country")), e.Int("src_asn"))
		}
	}
	if err != nil {
		return fmt.Errorf("merge attack %s: %w", aid, err)
	}
	// Sensors report cumulative figures, so a part keeps the largest seen
	// (events of one attack may arrive out of order).
	d.queue(`INSERT INTO attack_parts (attack_id, merged_id, sensor, port, start, last, ended, packets, request_bytes, reply_bytes, peak_pps)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (attack_id) DO UPDATE SET
		start = LEAST(attack_parts.start, excluded.start), last = GREATEST(attack_parts.last, excluded.last), ended = attack_parts.ended OR excluded.ended,
		packets = GREATEST(attack_parts.packets, excluded.packets), request_bytes = GREATEST(attack_parts.request_bytes, excluded.request_bytes),
		reply_bytes = GREATEST(attack_parts.reply_bytes, excluded.reply_bytes), peak_pps = GREATEST(attack_parts.peak_pps, excluded.peak_pps)`,
		aid, merged, clean(e.Sensor), int32(e.Int("port")), start, last, p.Ended,
		e.Int("packets"), e.Int("request_bytes"), e.Int("reply_bytes"), store.FloatOf(e.Data["peak_pps"]))
	d.queue(remergeSQL, merged)
	return nil
}

// MergedAttacks implements store.AttackStore, newest first.
func (db *DB) MergedAttacks(ctx context.Context, q store.AttackQuery) ([]store.MergedAttack, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Protocol != "" {
		add("protocol = $%d", clean(q.Protocol))
	}
	if !q.Since.IsZero() {
		add("last >= $%d", q.Since)
	}
	if q.Sensor != "" {
		add("sensors @> jsonb_build_array($%d::text)", clean(q.Sensor))
	}
	if q.Victim.IsValid() {
		add("victim <<= $%d::cidr", prefix(q.Victim))
	}
	if q.After != "" {
		seq, err := store.DecodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		add("seq < $%d", seq)
	}
	limit := store.PageLimit(q.Limit)
	query := `SELECT seq, id, host(victim), protocol, ports::text, sensors::text, start, last, ended, packets, request_bytes, reply_bytes, peak_pps, request, country, asn FROM merged_attacks`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(" ORDER BY seq DESC LIMIT $%d", len(args))
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: attacks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MergedAttack, error) {
		var a store.MergedAttack
		var seq int64
		var victim, ports, sensors string
		err := r.Scan(&seq, &a.ID, &victim, &a.Protocol, &ports, &sensors, &a.Start, &a.Last, &a.Ended, &a.Packets, &a.RequestBytes, &a.ReplyBytes, &a.PeakPPS, &a.Request, &a.Country, &a.ASN)
		_ = json.Unmarshal([]byte(ports), &a.Ports)
		_ = json.Unmarshal([]byte(sensors), &a.Sensors)
		a.Victim, a.Start, a.Last, a.Cursor = parseAddr(victim), a.Start.UTC(), a.Last.UTC(), store.EncodeCursor(seq)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: attacks: %w", err)
	}
	return out, nil
}
