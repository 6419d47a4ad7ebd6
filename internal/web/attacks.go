package web

import (
	"net/http"
	"net/netip"
	"net/url"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/store"
)

// ParseAttackQuery turns /api/v1/attacks parameters into a store query.
func ParseAttackQuery(v url.Values) (store.AttackQuery, error) {
	var q store.AttackQuery
	p, err := parseListParams(v, "victim", "protocol", "sensor")
	if err != nil {
		return q, err
	}
	q.Since, q.After, q.Limit = p.Since, p.After, p.Limit
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
	q.Protocol, q.Sensor = v.Get("protocol"), v.Get("sensor")
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
	if _, ok := s.allow(w, r, access.Victims); !ok {
		return
	}
	list, err := s.opts.Store.MergedAttacks(r.Context(), q)
	if s.apiErr(w, err) {
		return
	}
	list, next := page(list, q.Limit, func(x store.MergedAttack) string { return x.Cursor })
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
