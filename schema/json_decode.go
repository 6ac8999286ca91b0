package schema

import "strconv"

// Type-driven JSON decoding: canonical values of a type built from the tokens of json_lex.go.

// DecodeJSON decodes one JSON document into a canonical value of t (errors: *ValueError or a
// *JSONError syntax error).
//
// The decoder is driven by the type: it builds canonical values directly, without the
// generic map of encoding/json and a Convert pass (see BenchmarkDecodeJSON). Object keys that
// a record does not declare are skipped; for a repeated key the last value wins; an absent
// optional field is nil, an absent required field an error. Numbers, strings and `any`
// values follow Convert's rules.
func (t *Type) DecodeJSON(data []byte) (any, error) {
	v, err := t.decodeJSON(data)
	if err != nil {
		return nil, rootPath(err)
	}
	return v, nil
}

// JSONDecoder decodes documents of one type one after another (the lines of a JSONL file),
// like DecodeJSON, and shares what repeats between them: a short string it has seen before
// comes back as the same value, with no allocation (a field such as "type" takes few values).
// It is not safe for concurrent use.
type JSONDecoder struct {
	t    *Type
	strs map[string]any
}

// Short strings up to maxSharedString bytes are shared, up to maxSharedStrings of them per
// decoder (the first ones seen: a field of ids never fills it with more).
const (
	maxSharedString  = 32
	maxSharedStrings = 1024
)

// NewJSONDecoder returns a decoder of documents of type t.
func (t *Type) NewJSONDecoder() *JSONDecoder {
	return &JSONDecoder{t: t, strs: make(map[string]any)}
}

// Decode decodes one document, as DecodeJSON.
func (dec *JSONDecoder) Decode(data []byte) (any, error) {
	v, err := dec.t.decodeWith(data, dec.strs)
	if err != nil {
		return nil, rootPath(err)
	}
	return v, nil
}

// decodeJSON is DecodeJSON with *ValueError paths relative to the document.
func (t *Type) decodeJSON(data []byte) (any, error) {
	return t.decodeWith(data, nil)
}

// decodeWith is decodeJSON sharing short strings through strs (nil: no sharing).
func (t *Type) decodeWith(data []byte, strs map[string]any) (any, error) {
	d := jsonDecoder{data: data, strs: strs}
	d.skipSpace()
	v, err := d.decode(t, 0)
	if err != nil {
		return nil, err
	}
	if d.i < len(d.data) {
		return nil, d.syntaxErr("unexpected data after the JSON value")
	}
	return v, nil
}

// mismatch skips the value at the current position and reports that it does not fit t.
func (d *jsonDecoder) mismatch(t *Type, detail string) error {
	start := d.i
	if err := d.skipValue(0); err != nil {
		return err
	}
	return &ValueError{Expected: t.String(), Got: shortJSON(rawJSON(d.data[start:d.i])), Detail: detail}
}

// rawJSON is a JSON text shown in an error as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// decode reads a value of t; whitespace before it has been skipped, whitespace after it is
// skipped.
func (d *jsonDecoder) decode(t *Type, depth int) (v any, err error) {
	switch t.Kind {
	case Optional:
		if d.literal("null") {
			d.skipSpace()
			return nil, nil
		}
		return d.decode(t.Elem, depth)
	case Any:
		v, err = d.decodeAny(t, depth)
	case Bool:
		switch {
		case d.literal("true"):
			v = true
		case d.literal("false"):
			v = false
		default:
			return nil, d.mismatch(t, "")
		}
	case Int, Float:
		v, err = d.decodeNumber(t)
	case String:
		if d.peek() != '"' {
			return nil, d.mismatch(t, "")
		}
		v, err = d.stringValue()
	case Bytes:
		v, err = d.decodeBytes(t)
	case Record:
		v, err = d.decodeRecord(t, depth)
	case Tuple, List:
		v, err = d.decodeArray(t, depth)
	case Map:
		v, err = d.decodeMap(t, depth)
	}
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	return v, nil
}

func (d *jsonDecoder) decodeNumber(t *Type) (any, error) {
	c := d.peek()
	if c != '-' && (c < '0' || c > '9') {
		return nil, d.mismatch(t, "")
	}
	start := d.i
	tok, isInt, err := d.readNumber()
	if err != nil {
		return nil, err
	}
	if isInt {
		if i, ok := parseSmallInt(tok); ok {
			if t.Kind == Float {
				return float64(i), nil
			}
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if t.Kind == Float {
		if err != nil {
			return nil, &ValueError{Expected: t.String(), Got: string(tok), Detail: "out of range"}
		}
		return f, nil
	}
	i, detail := floatToInt(f)
	if detail != "" {
		d.i = start
		return nil, d.mismatch(t, detail)
	}
	return i, nil
}

func (d *jsonDecoder) decodeBytes(t *Type) (any, error) {
	if d.peek() != '"' {
		return nil, d.mismatch(t, "")
	}
	start := d.i
	s, err := d.readString()
	if err != nil {
		return nil, err
	}
	b, err := decodeBase64(s)
	if err != nil {
		d.i = start
		return nil, d.mismatch(t, detailBase64)
	}
	return b, nil
}

func (d *jsonDecoder) decodeRecord(t *Type, depth int) (any, error) {
	if d.peek() != '{' {
		return nil, d.mismatch(t, "")
	}
	out := make(map[string]any, len(t.Fields))
	for more := d.objectStart(); more; {
		key, err := d.objectKey()
		if err != nil {
			return nil, err
		}
		if err := d.recordField(t, key, out, depth); err != nil {
			return nil, err
		}
		if more, err = d.objectNext(); err != nil {
			return nil, err
		}
	}
	if len(out) < len(t.Fields) {
		for _, f := range t.Fields {
			if _, ok := out[f.Name]; ok {
				continue
			}
			if f.Type.Kind != Optional && f.Type.Kind != Any {
				return nil, prefixPath(&ValueError{Expected: f.Type.String(), Got: "nothing", Detail: detailMissing}, fieldSeg(f.Name))
			}
			out[f.Name] = nil
		}
	}
	return out, nil
}

// recordField decodes the value of the field key of a record of type t into out (skips it
// when t does not declare it).
func (d *jsonDecoder) recordField(t *Type, key []byte, out map[string]any, depth int) error {
	for _, f := range t.Fields {
		if string(key) == f.Name {
			v, err := d.decode(f.Type, depth+1)
			if err != nil {
				return prefixPath(err, fieldSeg(f.Name))
			}
			out[f.Name] = v
			return nil
		}
	}
	return d.skipValue(depth + 1)
}

func (d *jsonDecoder) decodeArray(t *Type, depth int) (any, error) {
	if d.peek() != '[' {
		return nil, d.mismatch(t, "")
	}
	start := d.i
	var out []any
	if t.Kind == Tuple {
		out = make([]any, 0, len(t.Elems))
	}
	err := d.arrayElems(func(i int) error {
		if t.Kind == Tuple && i >= len(t.Elems) {
			return errTupleLength
		}
		v, err := d.decode(t.elemAt(i), depth+1)
		if err != nil {
			return prefixPath(err, indexSeg(i))
		}
		out = append(out, v)
		return nil
	})
	if err == errTupleLength || err == nil && t.Kind == Tuple && len(out) != len(t.Elems) {
		d.i = start
		return nil, d.mismatch(t, "a tuple of "+strconv.Itoa(len(t.Elems))+" elements")
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// errTupleLength stops reading an array that is longer than its tuple type.
var errTupleLength = &JSONError{Msg: "tuple too long"}

func (d *jsonDecoder) decodeMap(t *Type, depth int) (any, error) {
	if d.peek() != '{' {
		return nil, d.mismatch(t, "")
	}
	out := map[string]any{}
	err := d.objectEntries(func(key []byte) error {
		k := string(key)
		if t.Key.Kind == Int {
			var detail string
			if k, detail = canonicalIntKey(k); detail != "" {
				return prefixPath(&ValueError{Expected: t.Key.String(), Got: strconv.Quote(string(key)), Detail: detail}, keySeg(string(key)))
			}
		}
		v, err := d.decode(t.Elem, depth+1)
		if err != nil {
			return prefixPath(err, keySeg(k))
		}
		out[k] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decodeAny reads any JSON value into its `any` canonical form.
func (d *jsonDecoder) decodeAny(t *Type, depth int) (any, error) {
	if depth > maxAnyDepth {
		return nil, d.syntaxErr("nested too deeply")
	}
	switch c := d.peek(); {
	case c == '{':
		out := map[string]any{}
		err := d.objectEntries(func(key []byte) error {
			v, err := d.decodeAny(t, depth+1)
			if err != nil {
				return prefixPath(err, keySeg(string(key)))
			}
			out[string(key)] = v
			d.skipSpace()
			return nil
		})
		return out, err
	case c == '[':
		out := []any{}
		err := d.arrayElems(func(i int) error {
			v, err := d.decodeAny(t, depth+1)
			if err != nil {
				return prefixPath(err, indexSeg(i))
			}
			out = append(out, v)
			d.skipSpace()
			return nil
		})
		return out, err
	case c == '"':
		return d.readString()
	case c == '-' || c >= '0' && c <= '9':
		tok, isInt, err := d.readNumber()
		if err != nil {
			return nil, err
		}
		if isInt {
			if i, ok := parseSmallInt(tok); ok {
				return i, nil
			}
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		if isInt || err != nil {
			i, detail := floatToInt(f)
			if err != nil || detail != "" {
				return nil, &ValueError{Expected: t.String(), Got: string(tok), Detail: detailRange}
			}
			return i, nil
		}
		if i, detail := floatToInt(f); detail == "" {
			return i, nil
		}
		return f, nil
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("null"):
		return nil, nil
	}
	if d.i >= len(d.data) {
		return nil, d.syntaxErr("unexpected end of input, expected a value")
	}
	return nil, d.syntaxErr("unexpected %q, expected a value", d.data[d.i])
}

// stringValue reads a string token as a value, shared when the decoder shares strings.
func (d *jsonDecoder) stringValue() (any, error) {
	if d.strs == nil {
		return d.readString()
	}
	b, err := d.readStringBytes()
	if err != nil || len(b) > maxSharedString {
		return string(b), err
	}
	if v, ok := d.strs[string(b)]; ok {
		return v, nil
	}
	var v any = string(b)
	if len(d.strs) < maxSharedStrings {
		d.strs[v.(string)] = v
	}
	return v, nil
}
