package script

import (
	"encoding/base64"
	"reflect"
	"slices"
	"unsafe"

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
// makes it canonical. Objects become map[string]any, arrays []any, numbers int64 when they
// are integral (2.0 too) and float64 otherwise. A value ToJS made comes back as its Go value
// (with JS's writes applied). FromJSAs does both steps at once, faster.
func (r *Runtime) FromJS(v goja.Value) any {
	if v == nil {
		return nil
	}
	x := v.Export()
	if u, ok := unwrap(x); ok {
		return u
	}
	var u unwrapper
	u.walk(x)
	return x
}

// unwrapper replaces the wrappers inside a value goja exported (fresh maps and slices) by
// their Go values. Exported values may be cyclic: after trackAfter containers, the walk
// remembers the ones it visited and visits each once.
type unwrapper struct {
	visits int
	seen   map[unsafe.Pointer]bool
}

// trackAfter is the number of containers visited before the walk starts remembering them.
const trackAfter = 1000

func (u *unwrapper) walk(x any) {
	switch x := x.(type) {
	case map[string]any:
		if len(x) == 0 || u.visited(x) {
			return
		}
		for k, e := range x {
			if g, ok := unwrap(e); ok {
				x[k] = g
			} else {
				u.walk(e)
			}
		}
	case []any:
		if len(x) == 0 || u.visited(x) {
			return
		}
		for i, e := range x {
			if g, ok := unwrap(e); ok {
				x[i] = g
			} else {
				u.walk(e)
			}
		}
	}
}

// visited reports whether the container x (a map or a slice) was visited since the walk
// started remembering, and remembers it.
func (u *unwrapper) visited(x any) bool {
	if u.visits++; u.visits < trackAfter {
		return false
	}
	if u.seen == nil {
		u.seen = map[unsafe.Pointer]bool{}
	}
	p := reflect.ValueOf(x).UnsafePointer()
	if u.seen[p] {
		return true
	}
	u.seen[p] = true
	return false
}
