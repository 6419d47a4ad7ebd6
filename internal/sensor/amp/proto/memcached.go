package proto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

func init() {
	register(Protocol{Name: "memcached", Port: 11211, DefaultListen: "127.0.0.1:21211", New: newMemcached})
}

// memcachedHandler is memcached 1.4 with UDP enabled: the 8-byte frame
// header, the ASCII protocol, and replies split into 1400-byte datagrams.
// `set` stores values (bounded) because reflection attackers plant their own
// large value first and then `get` it.
type memcachedHandler struct {
	id    Identity
	now   func() time.Time
	mu    sync.Mutex
	items map[string][]byte
	size  int
	pid   int
}

const (
	mcMaxDatagram = 1400 // UDP_MAX_PAYLOAD_SIZE, header included
	mcMaxValue    = 64 << 10
	mcMaxItems    = 256
	mcMaxTotal    = 1 << 20
	mcMaxKey      = 250
)

func newMemcached(id Identity, o Options) (Handler, error) {
	h := &memcachedHandler{id: id, now: o.now, items: map[string][]byte{}, pid: 800 + id.Rand("memcached").IntN(30000)}
	return h, nil
}

func (h *memcachedHandler) Respond(req []byte, _ Peer) (Reply, error) {
	if len(req) < 8+2 {
		return Reply{}, malformed("memcached", "datagram of %d bytes", len(req))
	}
	reqID := binary.BigEndian.Uint16(req[0:])
	seq, total := binary.BigEndian.Uint16(req[2:]), binary.BigEndian.Uint16(req[4:])
	if seq != 0 || total != 1 {
		return Reply{}, malformed("memcached", "multi-datagram request %d/%d", seq, total)
	}
	body := req[8:]
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return Reply{}, malformed("memcached", "no end of line")
	}
	cmdline := strings.TrimRight(string(line), "\r")
	fields := strings.Fields(cmdline)
	if len(fields) == 0 {
		return Reply{}, malformed("memcached", "empty command")
	}
	content := clip(cmdline, 200)
	var out []byte
	switch cmd := fields[0]; cmd {
	case "stats":
		if len(fields) > 1 {
			out = []byte("END\r\n")
			break
		}
		out = h.stats()
	case "version":
		out = []byte("VERSION 1.4.25\r\n")
	case "get", "gets":
		if len(fields) < 2 {
			out = []byte("ERROR\r\n")
			break
		}
		var b bytes.Buffer
		h.mu.Lock()
		for i, k := range fields[1:] {
			if i == 100 {
				break
			}
			if v, ok := h.items[k]; ok {
				fmt.Fprintf(&b, "VALUE %s 0 %d", k, len(v))
				if cmd == "gets" {
					fmt.Fprintf(&b, " %d", 1+len(k))
				}
				b.WriteString("\r\n")
				b.Write(v)
				b.WriteString("\r\n")
			}
		}
		h.mu.Unlock()
		b.WriteString("END\r\n")
		out = b.Bytes()
	case "set", "add", "replace":
		if len(fields) < 5 || len(fields[1]) > mcMaxKey {
			out = []byte("ERROR\r\n")
			break
		}
		n, err := strconv.Atoi(fields[4])
		if err != nil || n < 0 {
			out = []byte("CLIENT_ERROR bad command line format\r\n")
			break
		}
		if n > mcMaxValue {
			out = []byte("SERVER_ERROR object too large for cache\r\n")
			break
		}
		if len(rest) < n {
			out = []byte("CLIENT_ERROR bad data chunk\r\n")
			break
		}
		out = h.store(cmd, fields[1], rest[:n])
		if len(fields) > 5 && fields[5] == "noreply" {
			out = nil
		}
	default:
		out = []byte("ERROR\r\n")
	}
	if out == nil {
		return Reply{Content: content}, fmt.Errorf("memcached: noreply: %w", ErrNoAnswer)
	}
	// Split into datagrams, each with the frame header.
	per := mcMaxDatagram - 8
	count := (len(out) + per - 1) / per
	pkts := make([][]byte, 0, count)
	for i := 0; i < count; i++ {
		chunk := out[i*per : min(len(out), (i+1)*per)]
		p := make([]byte, 8, 8+len(chunk))
		binary.BigEndian.PutUint16(p[0:], reqID)
		binary.BigEndian.PutUint16(p[2:], uint16(i))
		binary.BigEndian.PutUint16(p[4:], uint16(count))
		pkts = append(pkts, append(p, chunk...))
	}
	return Reply{Content: content, Packets: pkts}, nil
}

func (h *memcachedHandler) store(cmd, key string, v []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	old, exists := h.items[key]
	switch {
	case cmd == "add" && exists, cmd == "replace" && !exists:
		return []byte("NOT_STORED\r\n")
	}
	if !exists && len(h.items) >= mcMaxItems || h.size-len(old)+len(v) > mcMaxTotal {
		return []byte("SERVER_ERROR out of memory storing object\r\n")
	}
	h.size += len(v) - len(old)
	h.items[key] = append([]byte(nil), v...)
	return []byte("STORED\r\n")
}

func (h *memcachedHandler) stats() []byte {
	now := h.now()
	up := int64(h.id.Uptime(now) / time.Second)
	r := h.id.Rand("memcached/stats")
	h.mu.Lock()
	items, bytesUsed := len(h.items), h.size
	h.mu.Unlock()
	gets := up*7 + int64(r.IntN(1000))
	stats := [][2]string{
		{"pid", strconv.Itoa(h.pid)}, {"uptime", strconv.FormatInt(up, 10)}, {"time", strconv.FormatInt(now.Unix(), 10)},
		{"version", "1.4.25"}, {"libevent", "2.0.21-stable"}, {"pointer_size", "64"},
		{"rusage_user", fmt.Sprintf("%d.%06d", up/900, r.IntN(1000000))}, {"rusage_system", fmt.Sprintf("%d.%06d", up/1400, r.IntN(1000000))},
		{"curr_connections", "10"}, {"total_connections", strconv.FormatInt(up/60+11, 10)}, {"connection_structures", "11"},
		{"reserved_fds", "20"}, {"cmd_get", strconv.FormatInt(gets, 10)}, {"cmd_set", strconv.FormatInt(gets/9, 10)},
		{"cmd_flush", "0"}, {"cmd_touch", "0"}, {"get_hits", strconv.FormatInt(gets*8/10, 10)}, {"get_misses", strconv.FormatInt(gets*2/10, 10)},
		{"get_expired", "0"}, {"get_flushed", "0"}, {"delete_misses", "0"}, {"delete_hits", "0"}, {"incr_misses", "0"}, {"incr_hits", "0"},
		{"decr_misses", "0"}, {"decr_hits", "0"}, {"cas_misses", "0"}, {"cas_hits", "0"}, {"cas_badval", "0"}, {"touch_hits", "0"},
		{"touch_misses", "0"}, {"auth_cmds", "0"}, {"auth_errors", "0"}, {"bytes_read", strconv.FormatInt(gets*41, 10)},
		{"bytes_written", strconv.FormatInt(gets*1207, 10)}, {"limit_maxbytes", "67108864"}, {"accepting_conns", "1"},
		{"listen_disabled_num", "0"}, {"time_in_listen_disabled_us", "0"}, {"threads", "4"}, {"conn_yields", "0"},
		{"hash_power_level", "16"}, {"hash_bytes", "524288"}, {"hash_is_expanding", "0"}, {"malloc_fails", "0"},
		{"log_worker_dropped", "0"}, {"log_worker_written", "0"}, {"log_watcher_skipped", "0"}, {"log_watcher_sent", "0"},
		{"bytes", strconv.Itoa(bytesUsed)}, {"curr_items", strconv.Itoa(items)}, {"total_items", strconv.FormatInt(gets/9, 10)},
		{"expired_unfetched", "0"}, {"evicted_unfetched", "0"}, {"evictions", "0"}, {"reclaimed", "0"},
		{"crawler_reclaimed", "0"}, {"crawler_items_checked", "0"}, {"lrutail_reflocked", "0"},
	}
	var b bytes.Buffer
	for _, kv := range stats {
		fmt.Fprintf(&b, "STAT %s %s\r\n", kv[0], kv[1])
	}
	b.WriteString("END\r\n")
	return b.Bytes()
}
