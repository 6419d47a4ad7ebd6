// Package event defines the one record every kansoku observation becomes:
// sensors emit events, the bus carries them, the collector stores them, and
// the portal and exports read them. Its JSON form is a public contract
// (docs/architecture.md "The event"); add fields freely, never rename or remove one.
package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Event is one observation.
type Event struct {
	ID        string         `json:"id"`
	Time      time.Time      `json:"time"`
	Sensor    string         `json:"sensor"`
	Honeypot  string         `json:"honeypot"`
	Kind      string         `json:"kind"`
	Session   string         `json:"session,omitempty"`
	SrcIP     netip.Addr     `json:"src_ip,omitzero"`
	SrcPort   uint16         `json:"src_port,omitempty"`
	DstIP     netip.Addr     `json:"dst_ip,omitzero"`
	DstPort   uint16         `json:"dst_port,omitempty"`
	Transport string         `json:"transport,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// NewID returns a time-ordered unique id (UUIDv7): sorting ids sorts by
// creation time, and the id is the idempotency key end to end.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only if the system's random source fails; a random v4 id
		// keeps uniqueness, losing only the ordering.
		return uuid.NewString()
	}
	return id.String()
}

// New returns an event with a fresh id and the current UTC time.
func New(honeypot, kind string) *Event {
	return &Event{ID: NewID(), Time: time.Now().UTC(), Honeypot: honeypot, Kind: kind, Data: map[string]any{}}
}

// Subject is the bus subject the event is published on.
func (e *Event) Subject() string {
	return "events." + token(e.Honeypot) + "." + token(e.Kind)
}

// token makes s safe as one or more NATS subject tokens; kinds are dotted
// on purpose (session.connect), so dots stay.
func token(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// Validate reports what makes e unusable as a stored event.
func (e *Event) Validate() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("event: missing id")
	case e.Time.IsZero():
		return fmt.Errorf("event %s: missing time", e.ID)
	case e.Honeypot == "":
		return fmt.Errorf("event %s: missing honeypot", e.ID)
	case e.Kind == "":
		return fmt.Errorf("event %s: missing kind", e.ID)
	}
	return nil
}

// Set stores a kind-specific field and returns e for chaining.
func (e *Event) Set(key string, v any) *Event {
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	e.Data[key] = v
	return e
}

// SetText stores an attacker-controlled string byte-exactly. JSON cannot
// carry invalid UTF-8, so such a value is stored readable with \xNN escapes
// under key and exact, base64-encoded, under key+"_b64".
func (e *Event) SetText(key, s string) *Event {
	if utf8.ValidString(s) {
		return e.Set(key, s)
	}
	e.Set(key, EscapeInvalid(s))
	return e.Set(key+"_b64", base64.StdEncoding.EncodeToString([]byte(s)))
}

// Text returns the exact bytes of a field stored with SetText.
func (e *Event) Text(key string) string {
	if b, ok := e.Data[key+"_b64"].(string); ok {
		if raw, err := base64.StdEncoding.DecodeString(b); err == nil {
			return string(raw)
		}
	}
	s, _ := e.Data[key].(string)
	return s
}

// Str returns a string field, or "".
func (e *Event) Str(key string) string {
	s, _ := e.Data[key].(string)
	return s
}

// Int returns a numeric field as int64 (JSON numbers decode as float64).
func (e *Event) Int(key string) int64 {
	switch v := e.Data[key].(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case uint16:
		return int64(v)
	case uint64:
		return int64(v)
	case float64:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return 0
}

// EscapeInvalid replaces each byte that is not part of valid UTF-8 with \xNN.
func EscapeInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Marshal encodes e as one JSON line (without the newline).
func Marshal(e *Event) ([]byte, error) { return json.Marshal(e) }

// Unmarshal decodes one JSON event and validates it.
func Unmarshal(b []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("event: decode: %w", err)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}
