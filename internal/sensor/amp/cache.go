package amp

import (
	"sync"

	"github.com/kansoku/kansoku/internal/sensor/amp/proto"
)

// sizeCache remembers, per request, the content and reply size the handler
// produced, so requests from a source whose budget is spent (the bulk of an
// attack) are accounted without building replies that will not be sent.
type sizeCache struct {
	mu   sync.Mutex
	skip int // leading bytes that differ per request (transaction ids)
	m    map[string]cached
}

type cached struct {
	content string
	size    int
	first   int // size of the first datagram
	err     error
}

const sizeCacheMax = 4096

func newSizeCache(protocol string) *sizeCache {
	skip := 0
	switch protocol {
	case "dns", "netbios", "memcached":
		skip = 2 // transaction / request id
	case "portmap":
		skip = 4 // xid
	}
	return &sizeCache{skip: skip, m: map[string]cached{}}
}

func (c *sizeCache) usable(req []byte) bool { return len(req) >= c.skip && len(req) <= 512 }

func (c *sizeCache) get(req []byte) (cached, bool) {
	if !c.usable(req) {
		return cached{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[string(req[c.skip:])] // no allocation for the lookup
	return v, ok
}

func (c *sizeCache) put(req []byte, r proto.Reply, err error) {
	if !c.usable(req) {
		return
	}
	k := string(req[c.skip:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sizeCacheMax {
		clear(c.m)
	}
	v := cached{content: r.Content, size: r.Size(), err: err}
	if len(r.Packets) > 0 {
		v.first = len(r.Packets[0])
	}
	c.m[k] = v
}
