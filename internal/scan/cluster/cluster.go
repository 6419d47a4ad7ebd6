// Package cluster groups the web UIs found by a scan by template and pulls
// out what each deployment customised. Pages are clustered by the structure
// of their DOM (tag-sequence shingles, not the text), with the favicon hash
// and the title as extra keys; inside a cluster the text nodes are aligned
// across members and the text that differs per host — typically the site or
// facility name — becomes that host's labels.
package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Page is one HTTP response to cluster.
type Page struct {
	// Key identifies the host, e.g. "127.0.0.1:80".
	Key         string
	Port        uint16
	Body        []byte
	Title       string
	FaviconHash *int32
	// Product is the classifier's guess for this host, if any.
	Product string
}

// Cluster is one web UI template.
type Cluster struct {
	// ID is a stable hash of the template's structure and port.
	ID      string   `json:"id"`
	Port    uint16   `json:"port"`
	Product string   `json:"product,omitempty"`
	Title   string   `json:"title,omitempty"`
	Size    int      `json:"size"`
	Members []string `json:"members"`
}

// Result is the output of Analyze.
type Result struct {
	Clusters []Cluster `json:"clusters"`
	// Labels maps a page key to the text its deployment customised.
	Labels map[string][]string `json:"labels"`
	// Template maps a page key to its cluster ID.
	Template map[string]string `json:"template"`
}

// Options tune clustering.
type Options struct {
	// Threshold is the similarity at or above which a page joins a cluster.
	Threshold float64
	// MinMembers is the cluster size from which labels are extracted.
	MinMembers int
}

func (o Options) withDefaults() Options {
	if o.Threshold == 0 {
		o.Threshold = 0.8
	}
	if o.MinMembers == 0 {
		o.MinMembers = 3
	}
	return o
}

type member struct {
	page Page
	doc  *doc
}

type group struct {
	port      uint16
	structure uint64
	favicon   *int32
	members   []*member
}

type cl struct {
	rep    *group
	groups []*group
}

// Analyze clusters pages and extracts per-host labels.
func Analyze(pages []Page, opts Options) Result {
	opts = opts.withDefaults()
	res := Result{Labels: map[string][]string{}, Template: map[string]string{}}

	// Pages with the exact same structure and favicon on the same port are
	// one group without any comparison; only groups are compared pairwise.
	type gkey struct {
		port uint16
		st   uint64
		fav  int64
	}
	groups := map[gkey]*group{}
	var order []*group
	docs := parseAll(pages)
	for i, p := range pages {
		d := docs[i]
		fav := int64(1) << 40 // no favicon
		if p.FaviconHash != nil {
			fav = int64(*p.FaviconHash)
		}
		k := gkey{p.Port, d.structure, fav}
		g := groups[k]
		if g == nil {
			g = &group{port: p.Port, structure: d.structure, favicon: p.FaviconHash}
			groups[k] = g
			order = append(order, g)
		}
		g.members = append(g.members, &member{page: p, doc: d})
	}
	sort.SliceStable(order, func(i, j int) bool {
		if len(order[i].members) != len(order[j].members) {
			return len(order[i].members) > len(order[j].members)
		}
		if order[i].port != order[j].port {
			return order[i].port < order[j].port
		}
		return order[i].structure < order[j].structure
	})

	var clusters []*cl
	for _, g := range order {
		var best *cl
		bestSim := 0.0
		for _, c := range clusters {
			if s := similarity(c.rep, g); s >= opts.Threshold && s > bestSim {
				best, bestSim = c, s
			}
		}
		if best == nil {
			clusters = append(clusters, &cl{rep: g, groups: []*group{g}})
			continue
		}
		best.groups = append(best.groups, g)
	}

	for _, c := range clusters {
		out := c.report()
		var ms []*member
		for _, g := range c.groups {
			ms = append(ms, g.members...)
		}
		for _, m := range ms {
			res.Template[m.page.Key] = out.ID
		}
		if len(ms) >= opts.MinMembers {
			for k, ls := range extractLabels(c.rep.members[0].doc, ms) {
				res.Labels[k] = ls
			}
		}
		res.Clusters = append(res.Clusters, out)
	}
	sort.Slice(res.Clusters, func(i, j int) bool {
		if res.Clusters[i].Size != res.Clusters[j].Size {
			return res.Clusters[i].Size > res.Clusters[j].Size
		}
		return res.Clusters[i].ID < res.Clusters[j].ID
	})
	return res
}

// similarity compares structure shingles; a differing favicon separates
// templates outright, and the title nudges near ties.
func similarity(a, b *group) float64 {
	if a.port != b.port {
		return 0
	}
	if a.favicon != nil && b.favicon != nil && *a.favicon != *b.favicon {
		return 0
	}
	da, db := a.members[0].doc, b.members[0].doc
	s := jaccard(da.shingles, db.shingles)
	t := jaccard(wordSet(a.members[0].page.Title), wordSet(b.members[0].page.Title))
	return 0.85*s + 0.15*t
}

func (c *cl) report() Cluster {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], c.rep.structure)
	h.Write(b[:])
	h.Write([]byte(strconv.Itoa(int(c.rep.port))))
	if c.rep.favicon != nil {
		h.Write([]byte(strconv.Itoa(int(*c.rep.favicon))))
	}
	out := Cluster{ID: hex.EncodeToString(h.Sum(nil))[:16], Port: c.rep.port}
	products := map[string]int{}
	titles := map[string]int{}
	for _, g := range c.groups {
		for _, m := range g.members {
			out.Members = append(out.Members, m.page.Key)
			if m.page.Product != "" {
				products[m.page.Product]++
			}
			titles[m.page.Title]++
		}
	}
	sort.Strings(out.Members)
	out.Size = len(out.Members)
	out.Product = mostCommon(products)
	if len(titles) == 1 {
		out.Title = mostCommon(titles)
	} else {
		out.Title = commonTitle(titles)
	}
	return out
}

func mostCommon(m map[string]int) string {
	best, n := "", 0
	for k, v := range m {
		if v > n || (v == n && k < best) {
			best, n = k, v
		}
	}
	return best
}

// parseAll parses the pages on every core: parsing is most of the work of
// a batch, and each page is parsed on its own.
func parseAll(pages []Page) []*doc {
	docs := make([]*doc, len(pages))
	workers := min(runtime.GOMAXPROCS(0), (len(pages)+63)/64)
	if workers <= 1 {
		for i, p := range pages {
			docs[i] = parse(p.Body)
		}
		return docs
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(pages); i = int(next.Add(1)) - 1 {
				docs[i] = parse(pages[i].Body)
			}
		}()
	}
	wg.Wait()
	return docs
}
