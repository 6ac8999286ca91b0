package script

import (
	"math"

	"github.com/pipectl/pipectl/schema"
)

// IsNullish reports whether the result is null or undefined.
func (r SimpleResult) IsNullish() bool {
	return r.lit == nil && (r.v == nil || r.v == Undefined)
}

// IsArg reports whether the result is argument i itself, as passed to Eval (a state returned
// unchanged).
func (r SimpleResult) IsArg(i int) bool { return int(r.arg) == i+1 }

// Truthy is the result's JS truthiness; ok false: call the function through JS.
func (r SimpleResult) Truthy() (t, ok bool) {
	if r.lit != nil {
		return true, true
	}
	return truthy(r.v)
}

// Pair splits a result that is an array literal of two elements, such as the
// [outputs, newState] of flat_map_with_state; ok false for anything else.
func (r SimpleResult) Pair() (first, second SimpleResult, ok bool) {
	arr, isArr := r.lit.(*arrayExpr)
	if !isArr || len(arr.elems) != 2 {
		return SimpleResult{}, SimpleResult{}, false
	}
	if first, ok = resolve(arr.elems[0], r.args); !ok {
		return SimpleResult{}, SimpleResult{}, false
	}
	second, ok = resolve(arr.elems[1], r.args)
	return first, second, ok
}

// As converts the result to a canonical value of type t exactly as FromJSAs converts what
// goja returns; ok false when it would fail (or when this conversion cannot tell): call the
// function through JS, whose error then says why.
func (r SimpleResult) As(t *schema.Type) (any, bool) {
	if r.lit == nil {
		return valueAs(r.v, t)
	}
	if t.Kind == schema.Optional {
		t = t.Elem
	}
	switch lit := r.lit.(type) {
	case *arrayExpr:
		return lit.as(t, r.args)
	case *objectExpr:
		if t.Kind != schema.Record {
			return nil, false
		}
		out := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			x := lit.field(f.Name)
			if x == nil {
				x = undefinedExpr{}
			}
			v, ok := convertExpr(x, f.Type, r.args)
			if !ok {
				return nil, false
			}
			out[f.Name] = v
		}
		return out, true
	}
	return nil, false
}

// AsList is As for a list type, without boxing the list (emitting the outputs of a function
// needs only its elements).
func (r SimpleResult) AsList(t *schema.Type) ([]any, bool) {
	if lit, ok := r.lit.(*arrayExpr); ok {
		return lit.list(t, r.args)
	}
	v, ok := r.As(t)
	if !ok {
		return nil, false
	}
	list, ok := v.([]any)
	return list, ok
}

// as converts an array literal to a list or tuple type t.
func (lit *arrayExpr) as(t *schema.Type, a args) (any, bool) {
	list, ok := lit.list(t, a)
	if !ok {
		return nil, false
	}
	if len(list) == 0 {
		return emptyList, true
	}
	return list, true
}

// emptyList is the canonical empty list, boxed once: an empty list is never written.
var emptyList any = []any{}

// list converts an array literal's elements to the element types of t.
func (lit *arrayExpr) list(t *schema.Type, a args) ([]any, bool) {
	if t.Kind == schema.Optional {
		t = t.Elem
	}
	if t.Kind != schema.List && (t.Kind != schema.Tuple || len(t.Elems) != len(lit.elems)) {
		return nil, false
	}
	if len(lit.elems) > MaxArrayLen {
		return nil, false
	}
	out := make([]any, len(lit.elems))
	for i, x := range lit.elems {
		et := t.Elem
		if t.Kind == schema.Tuple {
			et = t.Elems[i]
		}
		v, ok := convertExpr(x, et, a)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// convertExpr evaluates x and converts it to t.
func convertExpr(x expr, t *schema.Type, a args) (any, bool) {
	r, ok := resolve(x, a)
	if !ok {
		return nil, false
	}
	return r.As(t)
}

// valueAs converts a value to t as FromJSAs converts the JS value goja makes of it.
func valueAs(v any, t *schema.Type) (any, bool) {
	if v == nil || v == Undefined {
		return nil, t.Kind == schema.Optional || t.Kind == schema.Any
	}
	switch t.Kind {
	case schema.Optional:
		return valueAs(v, t.Elem)
	// A value that needs no conversion is returned as it is, not boxed again.
	case schema.Bool:
		_, ok := v.(bool)
		return v, ok
	case schema.Int:
		switch x := v.(type) {
		case int64:
			return v, x >= -schema.MaxSafeInt && x <= schema.MaxSafeInt
		case float64:
			if x == math.Trunc(x) && x >= -schema.MaxSafeInt && x <= schema.MaxSafeInt {
				return int64(x), true
			}
		}
	case schema.Float:
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case float64:
			return v, !math.IsNaN(x) && !math.IsInf(x, 0)
		}
	case schema.String:
		s, ok := v.(string)
		return v, ok && len(s) <= MaxStringLen
	case schema.Record, schema.Tuple, schema.List:
		// A record or list of the arguments, which JS did not change: FromJSAs gives it back
		// as it is when its type is t, else converts it (cleanAs); Convert does both for a
		// canonical value without bytes (which JS sees as base64 strings).
		if (isObject(v) && v != any(literalObject{})) && !hasBytes(v) {
			out, err := t.Convert(v)
			return out, err == nil
		}
	}
	return nil, false
}

// hasBytes reports whether a canonical value holds bytes anywhere.
func hasBytes(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case map[string]any:
		for _, e := range x {
			if hasBytes(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasBytes(e) {
				return true
			}
		}
	}
	return false
}
