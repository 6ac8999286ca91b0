package script

import (
	"errors"
	"math"
	"reflect"
	"strconv"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// errSlow says the typed walk met something it leaves to FromJS and schema.Type.Convert.
var errSlow = errors.New("not on the typed path")

// The types goja exports a JS boolean and the wrappers as.
var (
	boolType     = reflect.TypeFor[bool]()
	jsRecordType = reflect.TypeFor[*jsRecord]()
	jsListType   = reflect.TypeFor[*jsList]()
)

// FromJSAs converts a JS value straight into a canonical value of type t: the result of
// t.Convert(r.FromJS(v)), without exporting the whole value first. Records read their declared
// fields with Get (so a field may also come from the object's prototype chain, a getter or a
// class), tuples and lists their elements by index; a value ToJS or ToJSTyped made and JS did
// not change comes back as its Go value without being walked. A value that does not fit t
// takes the path of FromJS and Convert, so errors are Convert's *schema.ValueError, with the
// same paths and messages (`$.alarm.time: expected int, got "x"`); getters then run twice.
func (r *Runtime) FromJSAs(v goja.Value, t *schema.Type) (any, error) {
	var out any
	err := r.reading(v, func() (err error) {
		if out, err = r.fromJSAs(v, t); err == errSlow {
			out, err = t.Convert((&exporter{r: r}).value(v))
		}
		return err
	})
	return out, err
}

// fromJSAs is the typed walk; any error means "take the slow path".
func (r *Runtime) fromJSAs(v goja.Value, t *schema.Type) (any, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		if t.Kind == schema.Optional || t.Kind == schema.Any {
			return nil, nil
		}
		return nil, errSlow
	}
	switch t.Kind {
	case schema.Optional:
		return r.fromJSAs(v, t.Elem)
	case schema.Bool:
		if v.ExportType() == boolType {
			return v.ToBoolean(), nil
		}
	case schema.Int:
		if goja.IsNumber(v) {
			f := v.ToFloat()
			if f == math.Trunc(f) && f >= -schema.MaxSafeInt && f <= schema.MaxSafeInt {
				return int64(f), nil
			}
		}
	case schema.Float:
		if goja.IsNumber(v) {
			if f := v.ToFloat(); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, nil
			}
		}
	case schema.String:
		if s, ok := v.(goja.String); ok && s.Length() <= MaxStringLen {
			return s.String(), nil
		}
	case schema.Record, schema.Tuple, schema.List:
		if obj, ok := v.(*goja.Object); ok {
			return r.objectAs(obj, t)
		}
	default: // bytes, map, any
		if x, err := t.Convert((&exporter{r: r}).value(v)); err == nil {
			return x, nil
		}
		// the slow path converts the whole value again, so the error's path starts at its root
	}
	return nil, errSlow
}

// objectAs converts an object to a record, tuple or list type.
func (r *Runtime) objectAs(obj *goja.Object, t *schema.Type) (any, error) {
	switch obj.ExportType() { // Export would copy a plain object: look at the type first
	case jsRecordType:
		if w := obj.Export().(*jsRecord); !w.dirty {
			return r.cleanAs(w.m, w.t, t)
		}
	case jsListType:
		if w := obj.Export().(*jsList); !w.dirty {
			return r.cleanAs(w.s, w.t, t)
		}
	}
	class := obj.ClassName()
	if t.Kind == schema.Record && class == "Object" {
		return r.recordAs(obj, t)
	}
	if t.Kind == schema.Record || class != "Array" {
		return nil, errSlow
	}
	n := obj.Get("length").ToInteger()
	if n > int64(MaxArrayLen) || t.Kind == schema.Tuple && n != int64(len(t.Elems)) {
		return nil, errSlow
	}
	out := make([]any, n)
	for i := range out {
		et := t.Elem
		if t.Kind == schema.Tuple {
			et = t.Elems[i]
		}
		x, err := r.fromJSAs(obj.Get(strconv.Itoa(i)), et)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// recordAs reads the declared fields of a record.
func (r *Runtime) recordAs(obj *goja.Object, t *schema.Type) (any, error) {
	out := make(map[string]any, len(t.Fields))
	for _, f := range t.Fields {
		x, err := r.fromJSAs(obj.Get(f.Name), f.Type)
		if err != nil {
			return nil, err
		}
		out[f.Name] = x
	}
	return out, nil
}

// cleanAs converts the Go value of a wrapper JS did not change, of type from (nil: unknown),
// to type t: as it is when the types are the same, as JS sees it (bytes as base64) otherwise.
func (r *Runtime) cleanAs(v any, from, t *schema.Type) (any, error) {
	if from != nil && (from == t || from.Equal(t)) {
		return v, nil
	}
	v, _ = jsonLike(v)
	return t.Convert(v)
}
