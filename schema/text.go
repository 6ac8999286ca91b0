package schema

import (
	"strconv"
	"strings"
)

// ParseText reads a scalar of t from text, as found in a CSV cell (an empty cell is nil for an
// optional type).
//
// bool accepts what strconv.ParseBool accepts (true, false, 1, 0, TRUE, …); int and float are
// decimal numbers; surrounding spaces are ignored for bool, int and float but kept for
// string; bytes is base64; `any` takes the cell as a string. A composite type (record, tuple,
// list, map) reads the cell as a JSON document.
func (t *Type) ParseText(s string) (any, error) {
	v, err := t.parseText(s)
	if err != nil {
		return nil, rootPath(err)
	}
	return v, nil
}

func (t *Type) parseText(s string) (any, error) {
	switch t.Kind {
	case Optional:
		if s == "" {
			return nil, nil
		}
		return t.Elem.parseText(s)
	case String, Any:
		return s, nil
	case Bool:
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return b, nil
		}
	case Int:
		trimmed := strings.TrimSpace(s)
		i, err := strconv.ParseInt(trimmed, 10, 64)
		if err == nil {
			if i, detail := checkSafe(i); detail == "" {
				return i, nil
			}
		}
		if err == nil || isRangeErr(err) {
			return nil, valueErr(t, s, detailRange)
		}
		if f, ferr := strconv.ParseFloat(trimmed, 64); ferr == nil {
			i, detail := floatToInt(f)
			if detail == "" {
				return i, nil
			}
			return nil, valueErr(t, s, detail)
		}
	case Float:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, nil
		}
	case Bytes:
		if b, err := decodeBase64(s); err == nil {
			return b, nil
		}
		return nil, valueErr(t, s, detailBase64)
	default:
		return t.decodeJSON([]byte(s))
	}
	return nil, valueErr(t, s, "")
}
