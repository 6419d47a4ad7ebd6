package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Decode decodes node into v, failing on any key v has no field for. The
// error names the dotted key path and the line, because yaml.v3's own
// strict mode is only available on whole documents.
func Decode(node *yaml.Node, path string, v any) error {
	if node == nil {
		return nil
	}
	if err := checkKeys(node, reflect.TypeOf(v), path); err != nil {
		return err
	}
	if err := node.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", orRoot(path), err)
	}
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "config"
	}
	return path
}

var (
	durationType        = reflect.TypeOf(time.Duration(0))
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

func checkKeys(node *yaml.Node, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return nil
		}
		return checkKeys(node.Content[0], t, path)
	}
	if node.Kind == yaml.AliasNode {
		return checkKeys(node.Alias, t, path)
	}
	if t == nil || t == durationType {
		return nil
	}
	// A type with its own UnmarshalYAML checks its own keys; one decoded
	// from text (netip.Prefix, say) is a scalar.
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			if node.Tag == "!!null" {
				return nil
			}
			return fmt.Errorf("line %d: %s: expected a mapping", node.Line, orRoot(path))
		}
		if t.String() == "yaml.Node" {
			return nil
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: unknown key %s", k.Line, join(path, k.Value))
			}
			if err := checkKeys(node.Content[i+1], ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			if err := checkKeys(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range node.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps yaml keys to field types, descending into ",inline".
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range yamlFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// Lookup finds the node at a dotted path below root, for error lines.
func Lookup(root *yaml.Node, path string) *yaml.Node {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, part := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// KeyError is a bad value of one key of a section another package owns.
// Key is the dotted path from the top of the file, so LoadSection can add
// the line the key is on.
type KeyError struct {
	Key, Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

// LoadSection decodes section name into v strictly and validates it. A
// *KeyError from Validate comes back with the key's line.
func (c *Config) LoadSection(name string, v interface{ Validate() error }) error {
	if err := c.Section(name, v); err != nil {
		return err
	}
	err := v.Validate()
	var ke *KeyError
	if errors.As(err, &ke) {
		if l := c.Line(ke.Key); l > 0 {
			return fmt.Errorf("line %d: %w", l, err)
		}
	}
	return err
}
