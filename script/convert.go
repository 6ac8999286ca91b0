package script

import (
	"encoding/base64"
	"slices"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// ToJS converts a canonical Go value into a JS value without copying it: records and maps
// become objects whose keys are sorted, tuples and lists arrays, both reading the Go value
// lazily and writing only into their own copy (see wrap.go); bytes become base64 strings,
// int64 numbers. Other Go values (int, float32, []string, …) go through goja's own conversion.
// A wrapper is always extensible: Object.freeze on it throws a TypeError.
func (r *Runtime) ToJS(v any) goja.Value {
	return r.wrap(v, nil, nil)
}

// ToJSTyped is ToJS for a value of type t: the keys of records are the declared fields in
// declared order (JSON.stringify and Object.keys follow it). t may be nil (ToJS).
func (r *Runtime) ToJSTyped(v any, t *schema.Type) goja.Value {
	return r.wrap(v, t, nil)
}

// plainToJS converts a Go value into plain JS objects and arrays, copying it (keys sorted):
// for values JS must be able to freeze, such as params.
func (r *Runtime) plainToJS(v any) goja.Value {
	switch v := v.(type) {
	case map[string]any:
		var buf [16]string
		keys := buf[:0]
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		obj := r.vm.NewObject()
		for _, k := range keys {
			_ = obj.Set(k, r.plainToJS(v[k])) // a fresh plain object takes every property
		}
		return obj
	case []any:
		items := make([]any, len(v))
		for i, x := range v {
			items[i] = r.plainToJS(x)
		}
		return r.vm.NewArray(items...)
	case []byte:
		return r.vm.ToValue(base64.StdEncoding.EncodeToString(v))
	case nil:
		return goja.Null()
	}
	return r.vm.ToValue(v)
}

// FromJS exports a JS value into a generic Go value (undefined -> nil); schema.Type.Convert
// makes it canonical. Objects become map[string]any (their enumerable own properties), arrays
// []any, numbers int64 when they are integral (2.0 too) and float64 otherwise. A value ToJS
// made comes back as its Go value (with JS's writes applied). What Go cannot hold (a function,
// a symbol, a cycle, a value beyond MaxArrayLen, MaxStringLen or MaxDepth) becomes a
// schema.Foreign that Convert rejects with its path. Reading runs JS (getters, Proxy traps):
// outside a call it is guarded as a part of the last function called (see Func.Call), and a
// JS error or timeout in it is that function's *Error. FromJSAs does both steps at once,
// faster.
func (r *Runtime) FromJS(v goja.Value) (any, error) {
	if v == nil {
		return nil, nil
	}
	var out any
	err := r.reading(v, func() error {
		out = (&exporter{r: r}).value(v)
		return nil
	})
	return out, err
}
