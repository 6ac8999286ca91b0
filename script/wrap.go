package script

import (
	"encoding/base64"
	"maps"
	"slices"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// Records and lists cross into JS without being copied: ToJS wraps them in goja dynamic
// objects (jsRecord, jsList) whose properties convert their Go value on access. The Go value
// is shared with the rest of the pipeline and never written: the first write from JS detaches
// the wrapper onto a private copy of its JS properties, and marks it and every wrapper that
// holds it dirty. A wrapper that comes back from JS clean gives back its Go value as it is.
//
// Primitive properties are converted afresh on each read (they have no identity); a record or
// list property is wrapped once and kept, so `e.tags === e.tags` and writes into it persist.

// node is what both wrappers share: the runtime, the wrapper holding this one and whether
// JS changed this wrapper or one inside it.
type node struct {
	r     *Runtime
	up    *node
	dirty bool
}

// touch marks the wrapper and every wrapper holding it dirty. A dirty wrapper's holders are
// dirty already, so the walk stops at the first one.
func (n *node) touch() {
	for ; n != nil && !n.dirty; n = n.up {
		n.dirty = true
	}
}

// wrap converts a canonical Go value of type t (nil: untyped) for JS; up is the wrapper
// holding it, if any. Records and lists become wrappers, bytes base64 strings.
func (r *Runtime) wrap(v any, t *schema.Type, up *node) goja.Value {
	switch v := v.(type) {
	case nil:
		return goja.Null()
	case string:
		return r.vm.ToValue(v)
	case int64:
		return r.vm.ToValue(v)
	case float64:
		return r.vm.ToValue(v)
	case bool:
		return r.vm.ToValue(v)
	case []byte:
		return r.vm.ToValue(base64.StdEncoding.EncodeToString(v))
	case map[string]any:
		return r.vm.NewDynamicObject(&jsRecord{node: node{r: r, up: up}, m: v, t: inner(t, schema.Record)})
	case []any:
		lt := inner(t, schema.Tuple)
		if lt == nil {
			lt = inner(t, schema.List)
		}
		return r.vm.NewDynamicArray(&jsList{node: node{r: r, up: up}, s: v, t: lt})
	}
	return r.vm.ToValue(v)
}

// inner is t, or the type inside the optional t, when it is of kind k; nil otherwise.
func inner(t *schema.Type, k schema.Kind) *schema.Type {
	if t != nil && t.Kind == schema.Optional {
		t = t.Elem
	}
	if t == nil || t.Kind != k {
		return nil
	}
	return t
}

// isContainer reports whether a Go value becomes a wrapper (an object with identity).
func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// jsonLike is a canonical Go value as JS sees it: bytes as base64 strings. It copies only the
// containers on the way to a []byte, and reports whether it changed anything.
func jsonLike(v any) (any, bool) {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x), true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			c, changed := jsonLike(e)
			if changed && out == nil {
				out = maps.Clone(x)
			}
			if out != nil {
				out[k] = c
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, e := range x {
			c, changed := jsonLike(e)
			if changed && out == nil {
				out = slices.Clone(x)
			}
			if out != nil {
				out[i] = c
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}
