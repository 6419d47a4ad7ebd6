package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/ethcampaign"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/feeds"
	"github.com/kansoku/kansoku/internal/store"
)

func (s *Server) feedRoutes() {
	s.mux.HandleFunc("GET /feeds/{$}", s.pageFeeds)
	s.mux.HandleFunc("GET /feeds/{name}", s.feed)
	s.mux.HandleFunc("GET /feeds/misp/{file}", s.feedMISP)
}

func (s *Server) pageFeeds(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "feeds.html", "feeds.title", FeedNames)
}

// FeedNames are the files under /feeds/ (and kansoku export formats).
var FeedNames = []string{"urlhaus.csv", "urlhaus.json", "feodo.csv", "feodo.json", "threatfox.csv", "stix.json",
	"misp/manifest.json", "misp/hashes.csv", "report-bruteforce.csv", "report-amp.csv", "samples.csv",
	"eth-wallets.csv", "eth-wallets.json"}

// maxFeedItems bounds the indicators of a combined feed (ThreatFox, MISP,
// STIX) per kind; page further with since=.
const maxFeedItems = 5000

// combinedWindow is how far back a combined feed reaches without since=:
// feed readers (MISP) cannot pass parameters, and the newest indicators
// matter most.
const combinedWindow = 30 * 24 * time.Hour

func combinedSince(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().Add(-combinedWindow)
	}
	return t
}

// Indicators is what the combined feeds are built from.
type Indicators struct {
	URLs     []store.URL
	C2s      []store.C2
	Samples  []store.Sample
	Families map[string]string // sample SHA-256 → family
	// Wallets are the addresses attackers of the Ethereum honeypot
	// wanted funds or mining rewards sent to.
	Wallets []ethcampaign.Wallet
}

// CollectIndicators pages through URLs, C2s and samples seen since.
func CollectIndicators(ctx context.Context, st store.Store, since time.Time, max int) (*Indicators, error) {
	ind := &Indicators{Families: map[string]string{}}
	q := store.ListQuery{Since: since, Limit: 1000}
	for len(ind.Samples) < max {
		page, err := st.Samples(ctx, q)
		if err != nil {
			return nil, err
		}
		ind.Samples = append(ind.Samples, page...)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor
	}
	for _, smp := range ind.Samples {
		if smp.Family != "" {
			ind.Families[smp.SHA256] = smp.Family
		}
	}
	q.After = ""
	for len(ind.URLs) < max {
		page, err := st.URLs(ctx, q)
		if err != nil {
			return nil, err
		}
		ind.URLs = append(ind.URLs, page...)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor
	}
	cs, _, _, err := ethcampaign.Load(ctx, st, since, maxEthEvents)
	if err != nil {
		return nil, err
	}
	ind.Wallets = ethcampaign.Wallets(cs)
	if len(ind.Wallets) > max {
		ind.Wallets = ind.Wallets[:max]
	}
	q.After = ""
	for len(ind.C2s) < max {
		page, err := st.C2s(ctx, q)
		if err != nil {
			return nil, err
		}
		ind.C2s = append(ind.C2s, page...)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor
	}
	return ind, nil
}

func (s *Server) feedOptions() feeds.Options {
	return feeds.Options{BaseURL: s.opts.BaseURL, Seed: s.opts.FeedSeed, Online: 24 * time.Hour, Now: time.Now()}
}

// ReportKinds are the event kinds of each per-network report.
var ReportKinds = map[string][]string{
	"report-bruteforce.csv": {"login.failed", "login.success"},
	"report-amp.csv":        {"amp.attack.start"},
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	known := false
	for _, n := range FeedNames {
		known = known || n == name
	}
	if !known {
		writeError(w, http.StatusNotFound, "no such feed")
		return
	}
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var buf bytes.Buffer
	ctx := r.Context()
	o := s.feedOptions()
	next := ""
	ctype := "text/csv; charset=utf-8"
	switch name {
	case "urlhaus.csv", "urlhaus.json":
		urls, lerr := s.opts.Store.URLs(ctx, q)
		if s.apiErr(w, lerr) {
			return
		}
		fam := map[string]string{}
		for _, u := range urls {
			if u.SHA256 != "" {
				if smp, err := s.opts.Store.Sample(ctx, u.SHA256); err == nil && smp.Family != "" {
					fam[u.SHA256] = smp.Family
				}
			}
		}
		if len(urls) > 0 {
			next = nextCursor(len(urls), q.Limit, urls[len(urls)-1].Cursor)
		}
		if name == "urlhaus.csv" {
			err = feeds.WriteURLhausCSV(&buf, urls, fam, o)
		} else {
			ctype = "application/json"
			writeJSONTo(&buf, map[string]any{"query_status": "ok", "urls": feeds.URLhausRecords(urls, fam, o)})
		}
	case "feodo.csv", "feodo.json":
		c2s, lerr := s.opts.Store.C2s(ctx, q)
		if s.apiErr(w, lerr) {
			return
		}
		if len(c2s) > 0 {
			next = nextCursor(len(c2s), q.Limit, c2s[len(c2s)-1].Cursor)
		}
		if name == "feodo.csv" {
			err = feeds.WriteFeodoCSV(&buf, c2s, o)
		} else {
			ctype = "application/json"
			writeJSONTo(&buf, feeds.FeodoRecords(c2s, o))
		}
	case "samples.csv":
		// The researchers' bulk metadata export, MalwareBazaar's columns.
		if _, ok := s.allow(w, r, access.Bulk); !ok {
			return
		}
		list, lerr := s.opts.Store.Samples(ctx, q)
		if s.apiErr(w, lerr) {
			return
		}
		if len(list) > 0 {
			next = nextCursor(len(list), q.Limit, list[len(list)-1].Cursor)
		}
		err = feeds.WriteMalwareBazaarCSV(&buf, list)
	case "threatfox.csv", "stix.json":
		if q.After != "" {
			writeError(w, http.StatusBadRequest, "bad cursor: combined feeds page by since only")
			return
		}
		ind, lerr := CollectIndicators(ctx, s.opts.Store, combinedSince(q.Since), maxFeedItems)
		if s.apiErr(w, lerr) {
			return
		}
		if name == "threatfox.csv" {
			err = feeds.WriteThreatFoxCSV(&buf, ind.C2s, ind.URLs, ind.Samples, ind.Families, o)
		} else {
			ctype = "application/stix+json;version=2.1"
			b := feeds.BuildSTIX(ind.URLs, ind.C2s, ind.Samples, ind.Families, o)
			feeds.AddWalletsSTIX(&b, ind.Wallets, o)
			err = feeds.WriteSTIX(&buf, b)
		}
	case "eth-wallets.csv", "eth-wallets.json":
		if q.After != "" {
			writeError(w, http.StatusBadRequest, "bad cursor: the wallet feed pages by since only")
			return
		}
		cs, _, _, lerr := ethcampaign.Load(ctx, s.opts.Store, combinedSince(q.Since), maxEthEvents)
		if s.apiErr(w, lerr) {
			return
		}
		wallets := ethcampaign.Wallets(cs)
		if name == "eth-wallets.csv" {
			err = feeds.WriteWalletsCSV(&buf, wallets)
		} else {
			ctype = "application/json"
			writeJSONTo(&buf, map[string]any{"wallets": wallets})
		}
	case "report-bruteforce.csv", "report-amp.csv":
		// Reports name infected hosts and victims: for key holders only.
		if _, ok := s.allow(w, r, access.Bulk); !ok {
			return
		}
		if len(ReportKinds[name]) > 1 && q.After != "" {
			writeError(w, http.StatusBadRequest, "bad cursor: this report pages by since only")
			return
		}
		var evs []*event.Event
		for _, kind := range ReportKinds[name] {
			page, lerr := s.opts.Store.Events(ctx, store.EventQuery{Kind: kind, Since: q.Since, After: q.After, Ascending: true, Limit: q.Limit})
			if s.apiErr(w, lerr) {
				return
			}
			evs = append(evs, page.Events...)
			if page.Next != "" && len(ReportKinds[name]) == 1 {
				next = page.Next
			}
		}
		layout := alert.LayoutBruteForce
		if name == "report-amp.csv" {
			layout = alert.LayoutAmp
		}
		err = alert.WriteReport(&buf, layout, evs, nil)
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.opts.Logger.Error("feed", "name", name, "err", err)
		}
		writeError(w, http.StatusInternalServerError, "feed failed")
		return
	}
	if next != "" {
		v := r.URL.Query()
		v.Set("cursor", next)
		w.Header().Set("X-Next-Cursor", next)
		w.Header().Set("Link", "<"+(&url.URL{Path: r.URL.Path, RawQuery: v.Encode()}).String()+`>; rel="next"`)
	}
	w.Header().Set("Content-Type", ctype)
	w.Write(buf.Bytes())
}

var mispFileRE = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json|manifest\.json|hashes\.csv)$`)

// feedMISP serves the MISP feed: MISP fetches manifest.json, then each
// event file it does not have, and hashes.csv for correlation.
func (s *Server) feedMISP(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if !mispFileRE.MatchString(file) {
		writeError(w, http.StatusNotFound, "no such feed file")
		return
	}
	q, err := ParseListQuery(r.URL.Query())
	if err != nil || q.After != "" {
		if err == nil {
			err = errBadQuery{"cursor", "the MISP feed pages by since only"}
		}
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ind, err := CollectIndicators(r.Context(), s.opts.Store, combinedSince(q.Since), maxFeedItems)
	if s.apiErr(w, err) {
		return
	}
	f := feeds.BuildMISP(ind.URLs, ind.C2s, ind.Samples, s.feedOptions())
	feeds.AddWalletsMISP(&f, ind.Wallets, s.feedOptions())
	var buf bytes.Buffer
	switch file {
	case "manifest.json":
		err = f.WriteManifest(&buf)
		w.Header().Set("Content-Type", "application/json")
	case "hashes.csv":
		err = f.WriteHashes(&buf)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	default:
		id := file[:len(file)-len(".json")]
		if _, ok := f.Events[id]; !ok {
			writeError(w, http.StatusNotFound, "no such event")
			return
		}
		err = f.WriteEvent(&buf, id)
		w.Header().Set("Content-Type", "application/json")
	}
	if err != nil {
		s.opts.Logger.Error("misp feed", "err", err)
		writeError(w, http.StatusInternalServerError, "feed failed")
		return
	}
	w.Write(buf.Bytes())
}

func writeJSONTo(buf *bytes.Buffer, v any) {
	enc := jsonEncoder(buf)
	_ = enc.Encode(v)
}
