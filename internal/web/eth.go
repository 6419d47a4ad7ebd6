package web

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/ethcampaign"
)

// maxEthEvents bounds the rpc.call events one campaign view reads; the
// answer says when it was reached.
const maxEthEvents = 100_000

// ethWindow is how far back the Ethereum view looks without since=.
const ethWindow = 30 * 24 * time.Hour

type ethView struct {
	Since      time.Time
	Campaigns  []ethcampaign.Campaign
	Wallets    []ethcampaign.Wallet
	Categories []string
	Read       int
	Truncated  bool
}

func (s *Server) ethRoutes() {
	s.mux.HandleFunc("GET /api/v1/eth/campaigns", s.apiEthCampaigns)
	s.mux.HandleFunc("GET /eth", s.pageEth)
}

// loadEth reads the campaigns of the window the query asks for (since=,
// default the last 30 days) and optionally of one source (src=).
func (s *Server) loadEth(r *http.Request) (*ethView, int, string) {
	q := r.URL.Query()
	for k := range q {
		if k != "since" && k != "src" && k != "lang" {
			return nil, http.StatusBadRequest, "unknown parameter " + k
		}
	}
	v := &ethView{Since: time.Now().Add(-ethWindow).UTC(), Categories: ethcampaign.Categories}
	if t := q.Get("since"); t != "" {
		p, err := time.Parse(time.RFC3339, t)
		if err != nil {
			return nil, http.StatusBadRequest, "since: want an RFC 3339 time"
		}
		v.Since = p
	}
	var src netip.Addr
	if a := q.Get("src"); a != "" {
		p, err := netip.ParseAddr(a)
		if err != nil {
			return nil, http.StatusBadRequest, "src: want an IP address"
		}
		src = p.Unmap()
	}
	cs, read, trunc, err := ethcampaign.Load(r.Context(), s.opts.Store, v.Since, maxEthEvents)
	if err != nil {
		s.opts.Logger.Error("eth campaigns", "err", err)
		return nil, http.StatusInternalServerError, "query failed"
	}
	if src.IsValid() {
		kept := cs[:0]
		for _, c := range cs {
			if c.Source == src {
				kept = append(kept, c)
			}
		}
		cs = kept
	}
	v.Campaigns, v.Read, v.Truncated = cs, read, trunc
	v.Wallets = ethcampaign.Wallets(cs)
	if v.Campaigns == nil {
		v.Campaigns = []ethcampaign.Campaign{}
	}
	return v, http.StatusOK, ""
}

func (s *Server) apiEthCampaigns(w http.ResponseWriter, r *http.Request) {
	v, code, msg := s.loadEth(r)
	if v == nil {
		writeError(w, code, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"since": v.Since, "campaigns": v.Campaigns, "events_read": v.Read, "truncated": v.Truncated})
}

func (s *Server) pageEth(w http.ResponseWriter, r *http.Request) {
	v, code, msg := s.loadEth(r)
	if v == nil {
		http.Error(w, msg, code)
		return
	}
	s.render(w, r, http.StatusOK, "eth.html", "eth.title", v)
}
