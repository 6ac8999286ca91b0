package script

import (
	"fmt"
	"strconv"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// Limits on a value JS hands to Go (a function's result, a key, an emitted record): a value
// beyond them is a type error of the function at that path, never an allocation that takes
// the process down. Variables only for tests.
var (
	MaxArrayLen  = 1 << 20 // elements of one array, properties of one object
	MaxStringLen = 1 << 24 // UTF-16 code units of one string (16 Mi)
	MaxDepth     = 1000    // nesting of arrays and objects
)

// exporter turns a JS value into a generic Go value within the limits. What has no value in
// Go (a function, a symbol, a cycle, a value beyond a limit) becomes a schema.Foreign saying
// what it is, so schema.Type.Convert reports it with its path, as it would a wrong value.
type exporter struct {
	r    *Runtime
	path []*goja.Object // the objects being exported, outermost first: a cycle meets one again
}

// value exports v (undefined and null: nil).
func (x *exporter) value(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	switch v := v.(type) {
	case *goja.Object:
		return x.object(v)
	case *goja.Symbol:
		return schema.Foreign("a symbol")
	case goja.String:
		if n := v.Length(); n > MaxStringLen {
			return schema.Foreign(fmt.Sprintf("a string of %d characters (the limit is %d)", n, MaxStringLen))
		}
		return v.String()
	}
	if goja.IsBigInt(v) {
		return schema.Foreign("a BigInt (" + v.String() + ")")
	}
	return v.Export() // bool, int64 or float64
}

// object exports an object: a wrapper as its Go value, an array as []any, a plain object as
// map[string]any of its enumerable own properties.
func (x *exporter) object(obj *goja.Object) any {
	if _, ok := goja.AssertFunction(obj); ok {
		return schema.Foreign("a function")
	}
	for _, o := range x.path {
		if o == obj {
			return schema.Foreign("a cycle (an object that contains itself)")
		}
	}
	if len(x.path) >= MaxDepth {
		return schema.Foreign(fmt.Sprintf("a value nested deeper than %d levels", MaxDepth))
	}
	x.path = append(x.path, obj)
	defer func() { x.path = x.path[:len(x.path)-1] }()
	switch obj.ExportType() { // Export would copy a plain object: look at the type first
	case jsRecordType:
		return obj.Export().(*jsRecord).export(x)
	case jsListType:
		return obj.Export().(*jsList).export(x)
	}
	switch obj.ClassName() {
	case "Array":
		n := obj.Get("length").ToInteger()
		if n > int64(MaxArrayLen) {
			return tooLong(n)
		}
		out := make([]any, n)
		for i := range out {
			out[i] = x.value(obj.Get(strconv.Itoa(i)))
		}
		return out
	case "Date":
		return schema.Foreign("a Date (return its getTime() or toISOString())")
	}
	keys := obj.Keys()
	if len(keys) > MaxArrayLen {
		return schema.Foreign(fmt.Sprintf("an object of %d properties (the limit is %d)", len(keys), MaxArrayLen))
	}
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		out[k] = x.value(obj.Get(k))
	}
	return out
}

// tooLong is an array beyond MaxArrayLen.
func tooLong(n int64) schema.Foreign {
	return schema.Foreign(fmt.Sprintf("an array of %d elements (the limit is %d)", n, MaxArrayLen))
}

// export is the record as JS sees it, as a Go value: the original one when JS changed nothing
// in it and it holds no bytes.
func (w *jsRecord) export(x *exporter) any {
	if !w.dirty {
		v, _ := jsonLike(w.m)
		return v
	}
	out := make(map[string]any, len(w.m))
	if !w.detached {
		for k, v := range w.m {
			out[k], _ = jsonLike(v)
		}
	}
	for _, p := range w.props {
		out[p.key] = x.value(p.val)
	}
	return out
}

// export is the list as JS sees it, as a Go value: the original one when JS changed nothing
// in it and it holds no bytes.
func (w *jsList) export(x *exporter) any {
	if !w.dirty {
		v, _ := jsonLike(w.s)
		return v
	}
	out := make([]any, w.Len())
	for i := range out {
		if w.vals != nil && w.vals[i] != nil {
			out[i] = x.value(w.vals[i])
		} else {
			out[i], _ = jsonLike(w.s[i])
		}
	}
	return out
}

// Elems reads the n elements of an array a function returned (its pair, say), guarded like
// FromJS. ok is false when v is not an array of n elements.
func (r *Runtime) Elems(v goja.Value, n int) (elems []goja.Value, ok bool, err error) {
	obj, isObj := v.(*goja.Object)
	if !isObj || obj.ClassName() != "Array" {
		return nil, false, nil
	}
	err = r.reading(v, func() error {
		if obj.Get("length").ToInteger() != int64(n) {
			return nil
		}
		elems, ok = make([]goja.Value, n), true
		for i := range elems {
			elems[i] = obj.Get(strconv.Itoa(i))
		}
		return nil
	})
	return elems, ok, err
}

// Unchanged reports whether v is a record or list wrapper (ToJS, ToJSTyped) that JS did not
// change: FromJSAs gives back the Go value it wraps, as it is, for the type it was made with.
func Unchanged(v goja.Value) bool {
	_, isObj := v.(*goja.Object)
	return isObj && inert(v)
}

// Describe says what a value is for a message, without running any JS: a primitive as its
// string, an object by its kind.
func Describe(v goja.Value) string {
	switch name := typeName(v); name {
	case "object", "array":
		if _, ok := goja.AssertFunction(v); ok {
			return "a function"
		}
		return "an " + name
	case "string":
		return strconv.Quote(truncate(v.String(), maxGot))
	case "number", "boolean", "bigint":
		return v.String()
	default:
		return name
	}
}

// maxGot is the length at which Describe cuts a string.
const maxGot = 60
