package schema

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON lexer: the tokens of a JSON document (strings, numbers, literals, the structure of
// objects and arrays) read in place, without knowing the types. json_decode.go builds
// canonical values of a type from them.

// JSONError is a JSON document that does not parse.
type JSONError struct {
	Offset int // byte offset in the document
	Msg    string
}

// Error reads `invalid JSON at offset 12: expected ',' or '}'`.
func (e *JSONError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
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

// literal consumes word when it is next.
func (d *jsonDecoder) literal(word string) bool {
	if len(d.data)-d.i >= len(word) && string(d.data[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
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
