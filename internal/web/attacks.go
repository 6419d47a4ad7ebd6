package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/kansoku/kansoku/internal/store"
)

// ParseAttackQuery turns /api/v1/attacks parameters into a store query.
func ParseAttackQuery(v url.Values) (store.AttackQuery, error) {
	var q store.AttackQuery
	allowed := map[string]bool{"victim": true, "protocol": true, "sensor": true, "since": true, "cursor": true, "limit": true}
	for k, vals := range v {
		if !allowed[k] {
			return q, errBadQuery{k, "unknown parameter"}
		}
		if len(vals) > 1 {
			return q, errBadQuery{k, "given more than once"}
		}
		if len(vals[0]) > 512 {
			return q, errBadQuery{k, "too long"}
		}
	}
	var err error
	if s := v.Get("victim"); s != "" {
		if q.Victim, err = netip.ParsePrefix(s); err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return q, errBadQuery{"victim", "want an IP address or prefix"}
			}
			q.Victim = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		q.Victim = q.Victim.Masked()
	}
	if q.Since, err = parseTime(v.Get("since")); err != nil {
		return q, errBadQuery{"since", err.Error()}
	}
	q.Protocol, q.Sensor, q.After = v.Get("protocol"), v.Get("sensor"), v.Get("cursor")
	q.Limit = 100
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, errBadQuery{"limit", "must be 1..1000"}
		}
		q.Limit = n
	}
	return q, nil
}

func (s *Server) apiAttacks(w http.ResponseWriter, r *http.Request) {
	q, err := ParseAttackQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Victim addresses are shared with key holders (CSIRTs, researchers)
	// only; the public sees aggregates on the dashboard.
	if _, ok := s.requireKey(w, r, ScopeFeedsRead); !ok {
		return
	}
	list, err := s.opts.Store.MergedAttacks(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	if list == nil {
		list = []store.MergedAttack{}
	}
	next := ""
	if len(list) > 0 {
		next = nextCursor(len(list), q.Limit, list[len(list)-1].Cursor)
	}
	writeJSON(w, http.StatusOK, map[string]any{"attacks": list, "next": next})
}

type attackView struct {
	Victim  string
	Attacks []store.MergedAttack
}

// pageAttacks shows the amplification attacks against the visitor's own
// address (linked from the infection check); nobody can list another
// address's attacks here.
func (s *Server) pageAttacks(w http.ResponseWriter, r *http.Request) {
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil {
		http.Error(w, "bad address", http.StatusBadRequest)
		return
	}
	ip = ip.Unmap()
	if ip != s.ClientIP(r) {
		http.Error(w, "only the attacks against your own address are shown here", http.StatusForbidden)
		return
	}
	list, err := s.opts.Store.MergedAttacks(r.Context(), store.AttackQuery{Victim: netip.PrefixFrom(ip, ip.BitLen()), Limit: 200})
	if s.pageErr(w, err) {
		return
	}
	s.render(w, r, http.StatusOK, "attack.html", "attack.title", attackView{Victim: ip.String(), Attacks: list})
}
