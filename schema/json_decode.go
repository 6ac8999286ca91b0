package schema

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// JSONError is a JSON document that does not parse.
type JSONError struct {
	Offset int // byte offset in the document
	Msg    string
}

// Error reads `invalid JSON at offset 12: expected ',' or '}'`.
func (e *JSONError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

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

// jsonDecoder reads one JSON document; i is the position of the next unread byte.
type jsonDecoder struct {
	data []byte
	i    int
	strs map[string]any // the shared strings of a JSONDecoder, or nil
}

func (d *jsonDecoder) syntaxErr(format string, args ...any) *JSONError {
	return &JSONError{Offset: d.i, Msg: fmt.Sprintf(format, args...)}
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
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

// literal consumes word when it is next.
func (d *jsonDecoder) literal(word string) bool {
	if len(d.data)-d.i >= len(word) && string(d.data[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
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

// parseSmallInt parses a JSON integer token of at most 15 digits (always within ±MaxSafeInt
// and exact) without allocating.
func parseSmallInt(tok []byte) (int64, bool) {
	neg := tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	if len(digits) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// readNumber reads a number token, checking its syntax; isInt is true without fraction and
// exponent.
func (d *jsonDecoder) readNumber() (tok []byte, isInt bool, err error) {
	start := d.i
	if d.peek() == '-' {
		d.i++
	}
	switch c := d.peek(); {
	case c == '0':
		d.i++
	case c >= '1' && c <= '9':
		d.digits()
	default:
		return nil, false, d.syntaxErr("invalid number")
	}
	isInt = true
	if d.peek() == '.' {
		d.i++
		if n := d.digits(); n == 0 {
			return nil, false, d.syntaxErr("invalid number: digits expected after '.'")
		}
		isInt = false
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if n := d.digits(); n == 0 {
			return nil, false, d.syntaxErr("invalid number: digits expected in exponent")
		}
		isInt = false
	}
	return d.data[start:d.i], isInt, nil
}

func (d *jsonDecoder) digits() int {
	start := d.i
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		d.i++
	}
	return d.i - start
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

// expectByte consumes c (after whitespace) or reports a syntax error.
func (d *jsonDecoder) expectByte(c byte, what string) error {
	d.skipSpace()
	if d.peek() != c {
		if d.i >= len(d.data) {
			return d.syntaxErr("unexpected end of input, expected %s", what)
		}
		return d.syntaxErr("expected %s, found %q", what, d.data[d.i])
	}
	d.i++
	d.skipSpace()
	return nil
}

// objectEntries reads `{ "k": v, ... }`, calling entry with each key (bytes valid only
// during the call; unescaped when needed) positioned at its value, which entry must consume.
func (d *jsonDecoder) objectEntries(entry func(key []byte) error) error {
	for more := d.objectStart(); more; {
		key, err := d.objectKey()
		if err != nil {
			return err
		}
		if err := entry(key); err != nil {
			return err
		}
		if more, err = d.objectNext(); err != nil {
			return err
		}
	}
	return nil
}

// objectStart reads `{` and reports whether an entry follows (objectEntries without a
// callback, for the hot record path: a closure there costs an allocation per record).
func (d *jsonDecoder) objectStart() bool {
	d.i++ // '{'
	d.skipSpace()
	if d.peek() == '}' {
		d.i++
		return false
	}
	return true
}

// objectKey reads an entry's key and its colon.
func (d *jsonDecoder) objectKey() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.expectByte('"', "a string key")
	}
	key, err := d.readStringBytes()
	if err != nil {
		return nil, err
	}
	if err := d.expectByte(':', "':' after object key"); err != nil {
		return nil, err
	}
	return key, nil
}

// objectNext reads what follows an entry's value and reports whether another entry follows.
func (d *jsonDecoder) objectNext() (bool, error) {
	d.skipSpace()
	switch d.peek() {
	case ',':
		d.i++
		d.skipSpace()
		return true, nil
	case '}':
		d.i++
		return false, nil
	}
	return false, d.expectByte('}', "',' or '}'")
}

// arrayElems reads `[ v, ... ]`, calling elem with each index positioned at its value.
func (d *jsonDecoder) arrayElems(elem func(i int) error) error {
	d.i++ // '['
	d.skipSpace()
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i); err != nil {
			return err
		}
		d.skipSpace()
		switch d.peek() {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			return nil
		default:
			return d.expectByte(']', "',' or ']'")
		}
	}
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

// skipValue reads over one value (checking its syntax) and the whitespace after it.
func (d *jsonDecoder) skipValue(depth int) error {
	if depth > maxAnyDepth {
		return d.syntaxErr("nested too deeply")
	}
	var err error
	switch c := d.peek(); {
	case c == '{':
		err = d.objectEntries(func([]byte) error { return d.skipValue(depth + 1) })
	case c == '[':
		err = d.arrayElems(func(int) error { return d.skipValue(depth + 1) })
	case c == '"':
		_, err = d.readStringBytes()
	case c == '-' || c >= '0' && c <= '9':
		_, _, err = d.readNumber()
	case d.literal("true"), d.literal("false"), d.literal("null"):
	case d.i >= len(d.data):
		err = d.syntaxErr("unexpected end of input, expected a value")
	default:
		err = d.syntaxErr("unexpected %q, expected a value", c)
	}
	d.skipSpace()
	return err
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

func (d *jsonDecoder) readString() (string, error) {
	b, err := d.readStringBytes()
	return string(b), err
}

// readStringBytes reads a string token. The result aliases the input when the string has no
// escapes and is valid UTF-8, and is a fresh buffer otherwise.
func (d *jsonDecoder) readStringBytes() ([]byte, error) {
	d.i++ // '"'
	start := d.i
	plain := true
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			raw := d.data[start:d.i]
			d.i++
			if plain && utf8.Valid(raw) {
				return raw, nil
			}
			return unescape(raw), nil
		case c == '\\':
			plain = false
			d.i++
			if d.i >= len(d.data) {
				break
			}
			switch d.data[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				if d.i+5 > len(d.data) || !isHex4(d.data[d.i+1:d.i+5]) {
					return nil, d.syntaxErr("invalid \\u escape")
				}
				d.i += 5
			default:
				return nil, d.syntaxErr("invalid escape '\\%c'", d.data[d.i])
			}
		case c < 0x20:
			return nil, d.syntaxErr("control character in string")
		default:
			d.i++
		}
	}
	return nil, d.syntaxErr("unexpected end of input in string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape decodes the body of a syntactically valid JSON string as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD).
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
			continue
		}
		e := raw[i+1]
		i += 2
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(raw[i : i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = utf16.DecodeRune(r, hex4(raw[i+2:i+6]))
				}
				if r2 != utf8.RuneError {
					i += 6
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, e)
		}
	}
	return out
}
