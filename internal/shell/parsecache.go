package shell

import "sync"

// Bots send the same probe lines in every session (the Mirai loader's
// `/bin/busybox ECCHI`, `cat /proc/mounts`, …), so the syntax trees of short
// lines are kept and shared: the interpreter never modifies a tree. The
// cache is bounded and simply starts over when full, so lines an attacker
// makes up can cost it only its hit rate.
const (
	maxCachedLine = 256  // longer lines (droppers) are rarely repeated
	maxCached     = 4096 // entries: a few MiB at most, trees included
)

type parseKey struct {
	src   string
	depth int
}

type parsed struct {
	l   *list
	err error
}

var parseCache struct {
	sync.RWMutex
	m map[parseKey]parsed
}

// parseShared is parse for interactive lines, through the shared cache.
func parseShared(src string, maxDepth int) (*list, error) {
	if len(src) > maxCachedLine {
		return parse(src, maxDepth)
	}
	k := parseKey{src, maxDepth}
	parseCache.RLock()
	p, ok := parseCache.m[k]
	parseCache.RUnlock()
	if ok {
		return p.l, p.err
	}
	l, err := parse(src, maxDepth)
	parseCache.Lock()
	if parseCache.m == nil || len(parseCache.m) >= maxCached {
		parseCache.m = make(map[parseKey]parsed, maxCached)
	}
	parseCache.m[k] = parsed{l, err}
	parseCache.Unlock()
	return l, err
}
