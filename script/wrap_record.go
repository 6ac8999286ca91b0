package script

import (
	"slices"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// prop is one property of a record wrapper.
type prop struct {
	key string
	val goja.Value
}

// jsRecord is a record or map seen by JS (a goja.DynamicObject). Its keys are the record
// type's fields in declared order when the type is known, sorted otherwise (Go's map order is
// random; JS must see the same order on every run).
type jsRecord struct {
	node
	m map[string]any // the Go value: never written
	t *schema.Type   // its record type, or nil

	// Until detached: the record and list properties read so far. Detached: every property,
	// in order; m is no longer read.
	props    []prop
	detached bool
}

// find is the index of key in props, or -1.
func (w *jsRecord) find(key string) int {
	for i := range w.props {
		if w.props[i].key == key {
			return i
		}
	}
	return -1
}

// Get converts a property on access (see the package's wrapper notes).
func (w *jsRecord) Get(key string) goja.Value {
	if i := w.find(key); i >= 0 {
		return w.props[i].val
	}
	if w.detached {
		return nil
	}
	v, ok := w.m[key]
	if !ok {
		return nil
	}
	if !isContainer(v) {
		return w.r.wrap(v, nil, nil)
	}
	val := w.r.wrap(v, w.fieldType(key), &w.node)
	w.props = append(w.props, prop{key, val})
	return val
}

// fieldType is the declared type of a field, or nil.
func (w *jsRecord) fieldType(key string) *schema.Type {
	if w.t == nil {
		return nil
	}
	for _, f := range w.t.Fields {
		if f.Name == key {
			return f.Type
		}
	}
	return nil
}

// Set writes into the wrapper's own properties, never into the Go value.
func (w *jsRecord) Set(key string, val goja.Value) bool {
	w.detach()
	if i := w.find(key); i >= 0 {
		w.props[i].val = val
	} else {
		w.props = append(w.props, prop{key, val})
	}
	w.touch()
	return true
}

// Has reports whether the record has the property.
func (w *jsRecord) Has(key string) bool {
	if w.detached {
		return w.find(key) >= 0
	}
	_, ok := w.m[key]
	return ok
}

// Delete removes a property from the wrapper's own properties.
func (w *jsRecord) Delete(key string) bool {
	w.detach()
	if i := w.find(key); i >= 0 {
		w.props = slices.Delete(w.props, i, i+1)
		w.touch()
	}
	return true
}

// Keys lists the properties in order: declared fields first, then others sorted.
func (w *jsRecord) Keys() []string {
	if w.detached {
		keys := make([]string, len(w.props))
		for i, p := range w.props {
			keys[i] = p.key
		}
		return keys
	}
	return w.goKeys()
}

// goKeys lists the Go value's keys in order.
func (w *jsRecord) goKeys() []string {
	keys := make([]string, 0, len(w.m))
	if w.t != nil {
		for _, f := range w.t.Fields {
			if _, ok := w.m[f.Name]; ok {
				keys = append(keys, f.Name)
			}
		}
		if len(keys) == len(w.m) {
			return keys
		}
	}
	declared := len(keys)
	for k := range w.m {
		if w.t == nil || w.fieldType(k) == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[declared:])
	return keys
}

// detach copies every property into props, so JS can write them.
func (w *jsRecord) detach() {
	if w.detached {
		return
	}
	keys := w.goKeys()
	props := make([]prop, len(keys))
	for i, k := range keys {
		props[i] = prop{k, w.Get(k)}
	}
	w.props, w.detached = props, true
}
