package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/access"
	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/source"
	"github.com/nats-io/nats.go"
)

// hub fans live events from the bus out to server-sent-event clients. A
// slow client misses events rather than slowing anyone else down.
type hub struct {
	mu      sync.Mutex
	clients map[chan liveEvent]struct{}
	sub     *nats.Subscription
	closed  bool
	// perSource counts viewers per source (IPv6 by /64), so one client
	// cannot hold every slot.
	perSource *source.Counter
}

// liveEvent is one event's JSON with its data kind, decoded once for all
// viewers so each gets only what the access policy lets it read.
type liveEvent struct {
	data []byte
	kind access.Kind
}

func newHub() *hub {
	return &hub{clients: map[chan liveEvent]struct{}{}, perSource: source.NewCounter(source.DefaultIPv6Prefix)}
}

func (h *hub) subscribe(b *bus.Bus) error {
	sub, err := b.NC.Subscribe("events.>", func(m *nats.Msg) { h.publish(m.Data) })
	if err != nil {
		return fmt.Errorf("web: live subscribe: %w", err)
	}
	h.mu.Lock()
	h.sub = sub
	h.mu.Unlock()
	return nil
}

func (h *hub) publish(data []byte) {
	var head struct {
		Honeypot string `json:"honeypot"`
		Kind     string `json:"kind"`
	}
	if json.Unmarshal(data, &head) != nil {
		return
	}
	ev := liveEvent{data: data, kind: access.OfStream(head.Honeypot, head.Kind)}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- ev:
		default:
		}
	}
}

func (h *hub) add() chan liveEvent {
	c := make(chan liveEvent, 256)
	h.mu.Lock()
	if h.closed {
		close(c)
	} else {
		h.clients[c] = struct{}{}
	}
	h.mu.Unlock()
	return c
}

func (h *hub) remove(c chan liveEvent) {
	h.mu.Lock()
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		close(c)
	}
	h.mu.Unlock()
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.sub != nil {
		_ = h.sub.Unsubscribe()
	}
	for c := range h.clients {
		delete(h.clients, c)
		close(c)
	}
}

// maxStreamClients bounds concurrent live viewers, maxStreamPerSource
// those of one source.
const (
	maxStreamClients   = 256
	maxStreamPerSource = 4
)

func (s *Server) apiStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	who, ok := s.caller(w, r)
	if !ok {
		return
	}
	release := s.live.perSource.Acquire(s.ClientIP(r), maxStreamPerSource)
	if release == nil {
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, "too many live streams from your address")
		return
	}
	defer release()
	s.live.mu.Lock()
	n := len(s.live.clients)
	s.live.mu.Unlock()
	if n >= maxStreamClients {
		writeError(w, http.StatusServiceUnavailable, "too many live viewers")
		return
	}
	c := s.live.add()
	defer s.live.remove(c)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": kansoku live events\n\n")
	fl.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			fl.Flush()
		case ev, ok := <-c:
			if !ok {
				return
			}
			if !who.May(ev.kind) {
				continue
			}
			// Event JSON is one line (json.Marshal never emits raw newlines).
			fmt.Fprintf(w, "event: event\ndata: %s\n\n", ev.data)
			fl.Flush()
		}
	}
}

func (s *Server) pageLive(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "live.html", "nav.live", nil)
}
