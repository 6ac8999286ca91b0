package schema

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AppendJSON appends the JSON form of a canonical value of t to dst, record fields in
// declared order, bytes as base64, int map keys as decimal strings.
//
// Numbers print like encoding/json (shortest form, exponent beyond 1e21 or below 1e-6); NaN
// and infinities have no JSON form and are an error. Strings are escaped like encoding/json
// without its HTML escaping (invalid UTF-8 becomes U+FFFD). Map keys and the keys of an `any`
// object are sorted (int keys numerically), so equal values print alike. A value that is
// not canonical but converts (an int for an int64, say) is converted on the way.
func (t *Type) AppendJSON(dst []byte, v any) ([]byte, error) {
	out, err := t.appendJSON(dst, v, 0)
	if err != nil {
		return dst, rootPath(err)
	}
	return out, nil
}

func (t *Type) appendJSON(dst []byte, v any, depth int) ([]byte, error) {
	switch t.Kind {
	case Bool:
		if b, ok := v.(bool); ok {
			return strconv.AppendBool(dst, b), nil
		}
	case Int:
		if i, ok := v.(int64); ok {
			return strconv.AppendInt(dst, i, 10), nil
		}
	case Float:
		if f, ok := v.(float64); ok {
			return appendFloat(t, dst, f)
		}
	case String:
		if s, ok := v.(string); ok {
			return appendString(dst, s), nil
		}
	case Bytes:
		if b, ok := v.([]byte); ok {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			return append(dst, '"'), nil
		}
	case Optional:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return t.Elem.appendJSON(dst, v, depth)
	case Any:
		return appendAny(t, dst, v, depth)
	case Record:
		if m, ok := v.(map[string]any); ok {
			dst = append(dst, '{')
			for i, f := range t.Fields {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendString(dst, f.Name)
				dst = append(dst, ':')
				var err error
				if dst, err = f.Type.appendJSON(dst, m[f.Name], depth); err != nil {
					return dst, prefixPath(err, fieldSeg(f.Name))
				}
			}
			return append(dst, '}'), nil
		}
	case Tuple, List:
		if s, ok := v.([]any); ok && (t.Kind == List || len(s) == len(t.Elems)) {
			dst = append(dst, '[')
			for i, x := range s {
				if i > 0 {
					dst = append(dst, ',')
				}
				var err error
				if dst, err = t.elemAt(i).appendJSON(dst, x, depth); err != nil {
					return dst, prefixPath(err, indexSeg(i))
				}
			}
			return append(dst, ']'), nil
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			return appendObject(dst, sortedKeys(m, t.Key.Kind == Int), m, func(dst []byte, x any) ([]byte, error) {
				return t.Elem.appendJSON(dst, x, depth)
			})
		}
	}
	cv, _, err := t.conv(v)
	if err != nil {
		return dst, err
	}
	return t.appendJSON(dst, cv, depth)
}

// elemAt is the type of position i of a tuple or list.
func (t *Type) elemAt(i int) *Type {
	if t.Kind == Tuple {
		return t.Elems[i]
	}
	return t.Elem
}

// appendObject appends a JSON object of m's entries in the order of keys.
func appendObject(dst []byte, keys []string, m map[string]any, val func([]byte, any) ([]byte, error)) ([]byte, error) {
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = val(dst, m[k]); err != nil {
			return dst, prefixPath(err, keySeg(k))
		}
	}
	return append(dst, '}'), nil
}

// sortedKeys returns m's keys sorted, numerically when they are canonical int keys.
func sortedKeys(m map[string]any, intKeys bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if intKeys {
		slices.SortFunc(keys, compareIntKeys)
	} else {
		slices.Sort(keys)
	}
	return keys
}

// compareIntKeys orders canonical decimal int keys numerically (without parsing them).
func compareIntKeys(a, b string) int {
	an, bn := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	switch {
	case an && !bn:
		return -1
	case !an && bn:
		return 1
	}
	c := len(a) - len(b)
	if c == 0 {
		c = strings.Compare(a, b)
	}
	if an {
		return -c
	}
	return c
}

func appendAny(t *Type, dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxAnyDepth {
		return dst, valueErr(t, "…", detailTooDeep)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		return appendFloat(t, dst, x)
	case string:
		return appendString(dst, x), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendAny(t, dst, e, depth+1); err != nil {
				return dst, prefixPath(err, indexSeg(i))
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		return appendObject(dst, sortedKeys(x, false), x, func(dst []byte, e any) ([]byte, error) {
			return appendAny(t, dst, e, depth+1)
		})
	}
	cv, _, err := convAny(t, v, depth)
	if err != nil {
		return dst, err
	}
	return appendAny(t, dst, cv, depth)
}

// appendFloat formats f as encoding/json does, with negative zero as 0 (as JSON.stringify).
func appendFloat(t *Type, dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, valueErr(t, f, "no JSON form")
	}
	if f == 0 {
		return append(dst, '0'), nil
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // e-09 -> e-9, as encoding/json
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
