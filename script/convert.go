package script

import (
	"encoding/base64"
	"slices"

	"github.com/dop251/goja"
)

// ToJS converts a canonical Go value into a JS value (records as plain objects, bytes as
// base64 strings, int64 as numbers). Other Go values (int, float32, []string, …, as YAML
// params may hold) go through goja's own conversion.
func (r *Runtime) ToJS(v any) goja.Value {
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
	case map[string]any:
		return r.objectToJS(v)
	case []any:
		items := make([]any, len(v))
		for i, x := range v {
			items[i] = r.ToJS(x)
		}
		return r.vm.NewArray(items...)
	case []byte:
		return r.vm.ToValue(base64.StdEncoding.EncodeToString(v))
	}
	return r.vm.ToValue(v)
}

// objectToJS makes a plain object of a record or map, its properties in sorted key order so
// that Object.keys and JSON.stringify in JS see the same order on every run (Go's map order
// is random). Up to 16 keys are sorted on the stack.
func (r *Runtime) objectToJS(m map[string]any) goja.Value {
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	obj := r.vm.NewObject()
	for _, k := range keys {
		_ = obj.Set(k, r.ToJS(m[k])) // a fresh plain object takes every property
	}
	return obj
}

// FromJS exports a JS value into a generic Go value (undefined -> nil); schema.Type.Convert
// makes it canonical. Objects become map[string]any, arrays []any, numbers int64 when they
// are integral (2.0 too) and float64 otherwise.
func (r *Runtime) FromJS(v goja.Value) any {
	if v == nil {
		return nil
	}
	return v.Export()
}
