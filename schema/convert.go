package schema

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// maxAnyDepth bounds the nesting of an `any` value (as encoding/json does).
const maxAnyDepth = 10000

// Details of value errors.
const (
	detailRange     = "beyond ±(2^53-1): declare large ids as string"
	detailBeyond    = "beyond ±(2^53-1)" // a number far beyond any id: no hint
	detailNotFinite = "not a finite number: JSON has no NaN or Infinity"
	detailFraction  = "not an integer"
	detailMissing   = "missing field"
	detailBase64    = "not base64"
	detailTooDeep   = "nested too deeply"
	detailNotNumber = "not a number"
)

// Convert checks a generic Go value against t and returns it in canonical form (see the
// package doc). It accepts what encoding/json (with UseNumber or float64) and goja's Export
// produce: json.Number, float64 that is integral for int, int/int32/int64, map[string]any,
// []any, base64 strings for bytes, nil or a missing field for an optional. Errors are
// *ValueError. Values already canonical pass with little work.
//
// A canonical record holds exactly its declared fields (nil for an absent optional); fields
// of the value that the record does not declare are dropped, so a function may return an
// object with extra properties. Canonical int map keys are decimal strings without leading
// zeros or '+'. Inside `any`, integral numbers within ±(2^53-1) become int64 (3.0 and 3 are
// the same JSON value), []byte becomes its base64 string, and every other number is float64.
func (t *Type) Convert(v any) (any, error) {
	out, _, err := t.conv(v)
	if err != nil {
		return nil, rootPath(err)
	}
	return out, nil
}

// conv converts v and reports whether the result differs from v (so containers copy only
// when a child changed).
func (t *Type) conv(v any) (out any, changed bool, err error) {
	switch t.Kind {
	case Bool:
		if _, ok := v.(bool); ok {
			return v, false, nil
		}
	case Int:
		if i, ok := v.(int64); ok && i >= -MaxSafeInt && i <= MaxSafeInt {
			return v, false, nil
		}
		i, detail := toInt(v)
		switch detail {
		case "":
			return i, true, nil
		case detailNotNumber:
			detail = ""
		}
		return nil, false, valueErr(t, v, detail)
	case Float:
		if f, ok := v.(float64); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, false, valueErr(t, v, detailNotFinite)
			}
			return v, false, nil
		}
		if f, ok := toFloat(v); ok {
			return f, true, nil
		}
	case String:
		if _, ok := v.(string); ok {
			return v, false, nil
		}
	case Bytes:
		switch x := v.(type) {
		case []byte:
			return v, false, nil
		case string:
			b, err := decodeBase64(x)
			if err != nil {
				return nil, false, valueErr(t, v, detailBase64)
			}
			return b, true, nil
		}
	case Optional:
		if v == nil {
			return nil, false, nil
		}
		return t.Elem.conv(v)
	case Any:
		return convAny(t, v, 0)
	case Record:
		if m, ok := v.(map[string]any); ok {
			return t.convRecord(m)
		}
	case Tuple:
		if s, ok := v.([]any); ok {
			if len(s) != len(t.Elems) {
				return nil, false, valueErr(t, v, "a tuple of "+strconv.Itoa(len(t.Elems))+" elements")
			}
			return convSlice(v, s, func(i int) *Type { return t.Elems[i] })
		}
	case List:
		if s, ok := v.([]any); ok {
			return convSlice(v, s, func(int) *Type { return t.Elem })
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			return t.convMap(m)
		}
	}
	return nil, false, valueErr(t, v, "")
}

// toInt converts a numeric value to an int64 within ±MaxSafeInt, or says why not.
func toInt(v any) (int64, string) {
	switch x := v.(type) {
	case float64:
		return floatToInt(x)
	case float32:
		return floatToInt(float64(x))
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err == nil {
			return checkSafe(n)
		}
		f, ferr := strconv.ParseFloat(string(x), 64)
		if ferr != nil && !isRangeErr(ferr) {
			return 0, detailNotNumber
		}
		return floatToInt(f)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkSafe(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > MaxSafeInt {
			return 0, detailRange
		}
		return int64(rv.Uint()), ""
	}
	return 0, detailNotNumber
}

func checkSafe(i int64) (int64, string) {
	if i < -MaxSafeInt || i > MaxSafeInt {
		return 0, detailRange
	}
	return i, ""
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func floatToInt(f float64) (int64, string) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return 0, detailNotFinite
	case f != math.Trunc(f):
		return 0, detailFraction
	case math.Abs(f) >= 1<<64:
		return 0, detailBeyond
	case f < -MaxSafeInt || f > MaxSafeInt:
		return 0, detailRange
	}
	return int64(f), ""
}

// toFloat converts a numeric value to float64 (large integers approximately, as JavaScript
// holds them).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	}
	return 0, false
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	if len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func (t *Type) convRecord(m map[string]any) (any, bool, error) {
	var out map[string]any // allocated at the first change
	present := 0
	for i, f := range t.Fields {
		fv, ok := m[f.Name]
		if ok {
			present++
		} else if f.Type.Kind != Optional && f.Type.Kind != Any {
			return nil, false, prefixPath(&ValueError{Expected: f.Type.String(), Got: "nothing", Detail: detailMissing}, fieldSeg(f.Name))
		}
		cv, changed, err := f.Type.conv(fv)
		if err != nil {
			return nil, false, prefixPath(err, fieldSeg(f.Name))
		}
		if out == nil && (changed || !ok) {
			out = make(map[string]any, len(t.Fields))
			for _, g := range t.Fields[:i] {
				out[g.Name] = m[g.Name]
			}
		}
		if out != nil {
			out[f.Name] = cv
		}
	}
	if out != nil {
		return out, true, nil
	}
	if present != len(m) { // undeclared fields: drop them
		out = make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			out[f.Name] = m[f.Name]
		}
		return out, true, nil
	}
	return m, false, nil
}

// convSlice converts the elements s of a tuple or list v, copying only when one changes (v is
// returned as it is otherwise: boxing s again would allocate).
func convSlice(v any, s []any, elem func(int) *Type) (any, bool, error) {
	var out []any
	for i, x := range s {
		cv, changed, err := elem(i).conv(x)
		if err != nil {
			return nil, false, prefixPath(err, indexSeg(i))
		}
		if changed && out == nil {
			out = make([]any, len(s))
			copy(out, s[:i])
		}
		if out != nil {
			out[i] = cv
		}
	}
	if out != nil {
		return out, true, nil
	}
	return v, false, nil
}

func (t *Type) convMap(m map[string]any) (any, bool, error) {
	var out map[string]any
	for k, x := range m {
		ck := k
		if t.Key.Kind == Int {
			var detail string
			if ck, detail = canonicalIntKey(k); detail != "" {
				return nil, false, prefixPath(valueErr(t.Key, k, detail), keySeg(k))
			}
		}
		cv, changed, err := t.Elem.conv(x)
		if err != nil {
			return nil, false, prefixPath(err, keySeg(k))
		}
		if out == nil && (changed || ck != k) {
			out = make(map[string]any, len(m))
			for k2, x2 := range m { // copy everything; converted entries overwrite below
				out[k2] = x2
			}
		}
		if out != nil {
			if ck != k {
				delete(out, k)
			}
			out[ck] = cv
		}
	}
	if out != nil {
		return out, true, nil
	}
	return m, false, nil
}

// canonicalIntKey checks an int map key given as a string and returns its canonical form, or
// says why it is not one.
func canonicalIntKey(k string) (string, string) {
	i, err := strconv.ParseInt(k, 10, 64)
	if err != nil && !isRangeErr(err) {
		return "", "an int map key must be a decimal integer"
	}
	if _, detail := checkSafe(i); err != nil || detail != "" {
		return "", detailRange
	}
	return strconv.FormatInt(i, 10), ""
}

// convAny converts a JSON-like value (see Convert for the normal form of numbers and bytes).
func convAny(t *Type, v any, depth int) (any, bool, error) {
	if depth > maxAnyDepth {
		return nil, false, valueErr(t, v, detailTooDeep)
	}
	switch x := v.(type) {
	case nil, bool, string:
		return v, false, nil
	case Foreign:
		return nil, false, valueErr(t, v, "")
	case int64:
		if x < -MaxSafeInt || x > MaxSafeInt {
			return nil, false, valueErr(t, v, detailRange)
		}
		return v, false, nil
	case float64:
		i, detail := floatToInt(x)
		switch detail {
		case "":
			return i, true, nil
		case detailNotFinite:
			return nil, false, valueErr(t, v, detail)
		}
		return v, false, nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil || isRangeErr(err) {
			if err != nil || i < -MaxSafeInt || i > MaxSafeInt {
				return nil, false, valueErr(t, v, detailRange)
			}
			return i, true, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, false, valueErr(t, v, detailNotNumber)
		}
		out, _, err := convAny(t, f, depth)
		return out, true, err
	case []byte:
		return base64.StdEncoding.EncodeToString(x), true, nil
	case []any:
		var out []any
		for i, e := range x {
			cv, changed, err := convAny(t, e, depth+1)
			if err != nil {
				return nil, false, prefixPath(err, indexSeg(i))
			}
			if changed && out == nil {
				out = make([]any, len(x))
				copy(out, x[:i])
			}
			if out != nil {
				out[i] = cv
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			cv, changed, err := convAny(t, e, depth+1)
			if err != nil {
				return nil, false, prefixPath(err, keySeg(k))
			}
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = cv
			}
		}
		if out != nil {
			return out, true, nil
		}
		return v, false, nil
	}
	switch i, detail := toInt(v); detail { // other Go number types
	case "":
		return i, true, nil
	case detailRange:
		return nil, false, valueErr(t, v, detailRange)
	}
	if f, ok := toFloat(v); ok {
		return f, true, nil
	}
	return nil, false, valueErr(t, v, "not a JSON value")
}
