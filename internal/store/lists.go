package store

import "encoding/json"

// Hosts' findings and labels and attacks' sensors are short lists that
// both drivers keep as JSON text in one column.

// JSONList is v, a list from event data, as JSON text; anything but a list
// is an empty one. fix, when not nil, rewrites each string in it first (a
// driver whose column cannot hold some characters); other values are kept.
func JSONList(v any, fix func(string) string) string {
	l, ok := v.([]any)
	if !ok {
		return "[]"
	}
	if fix != nil {
		out := make([]any, len(l))
		for i, x := range l {
			if s, ok := x.(string); ok {
				x = fix(s)
			}
			out[i] = x
		}
		l = out
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// StringList decodes a stored JSON list of strings; never nil, so that it
// encodes as [] for API clients. What does not decode is an empty list.
func StringList(s string) []string {
	var l []string
	_ = json.Unmarshal([]byte(s), &l)
	if l == nil {
		l = []string{}
	}
	return l
}
