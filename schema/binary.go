package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The binary encoding (AppendBinary, DecodeBinary) of a value, by type:
//
//	bool             1 byte: 0 or 1
//	int              zigzag varint (encoding/binary.AppendVarint)
//	float            8 bytes, big-endian IEEE 754; -0 is written as 0, every NaN as one NaN
//	string, bytes    uvarint length, then the bytes
//	T?               1 byte: 0 (null) or 1 followed by the T
//	record           the fields in declared order, without names
//	tuple            the elements in order
//	list<T>          uvarint count, then the elements
//	map<K, V>        uvarint count, then key/value pairs sorted by key (int keys numerically,
//	                 string keys bytewise); keys are encoded as their type
//	any              a tag byte, then: 0 null, 1 false, 2 true, 3 int (zigzag varint),
//	                 4 float (8 bytes; never an integral value within ±(2^53-1), which is an
//	                 int), 5 string, 6 list (uvarint count, elements), 7 object (uvarint count,
//	                 string key/value pairs sorted by key)
//
// The encoding is canonical: equal values give equal bytes, and DecodeBinary accepts only
// canonical bytes (minimal varints, sorted unique keys, 0/1 flags), so decoding and
// re-encoding gives back the same bytes.

// Tags of `any` values in the binary encoding. Part of the on-disk format: never change.
const (
	anyNull   = 0
	anyFalse  = 1
	anyTrue   = 2
	anyInt    = 3
	anyFloat  = 4
	anyString = 5
	anyList   = 6
	anyObject = 7
)

// canonicalNaN is the bits every NaN is written as.
var canonicalNaN = math.Float64bits(math.NaN())

// ErrCorrupt is wrapped by every DecodeBinary error: the bytes are not a value of the type.
var ErrCorrupt = errors.New("corrupt binary value")

// AppendBinary appends the compact deterministic binary encoding of v (a canonical value of
// t) to dst. Equal values always encode to equal bytes (map entries sorted by key), so the
// encoding of a key is its identity and the input of the key hash. A value that is not
// canonical but converts is converted on the way; one that does not fit is a *ValueError.
func (t *Type) AppendBinary(dst []byte, v any) ([]byte, error) {
	out, err := t.appendBinary(dst, v, 0)
	if err != nil {
		return dst, rootPath(err)
	}
	return out, nil
}

func (t *Type) appendBinary(dst []byte, v any, depth int) ([]byte, error) {
	switch t.Kind {
	case Bool:
		if b, ok := v.(bool); ok {
			if b {
				return append(dst, 1), nil
			}
			return append(dst, 0), nil
		}
	case Int:
		if i, ok := v.(int64); ok && i >= -MaxSafeInt && i <= MaxSafeInt {
			return binary.AppendVarint(dst, i), nil
		}
	case Float:
		if f, ok := v.(float64); ok {
			return appendFloatBits(dst, f), nil
		}
	case String:
		if s, ok := v.(string); ok {
			return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
		}
	case Bytes:
		if b, ok := v.([]byte); ok {
			return append(binary.AppendUvarint(dst, uint64(len(b))), b...), nil
		}
	case Optional:
		if v == nil {
			return append(dst, 0), nil
		}
		return t.Elem.appendBinary(append(dst, 1), v, depth)
	case Any:
		return appendAnyBinary(t, dst, v, depth)
	case Record:
		if m, ok := v.(map[string]any); ok {
			for _, f := range t.Fields {
				var err error
				if dst, err = f.Type.appendBinary(dst, m[f.Name], depth); err != nil {
					return dst, prefixPath(err, fieldSeg(f.Name))
				}
			}
			return dst, nil
		}
	case Tuple, List:
		if s, ok := v.([]any); ok && (t.Kind == List || len(s) == len(t.Elems)) {
			if t.Kind == List {
				dst = binary.AppendUvarint(dst, uint64(len(s)))
			}
			for i, x := range s {
				var err error
				if dst, err = t.elemAt(i).appendBinary(dst, x, depth); err != nil {
					return dst, prefixPath(err, indexSeg(i))
				}
			}
			return dst, nil
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			return t.appendMapBinary(dst, m, depth)
		}
	}
	cv, _, err := t.conv(v)
	if err != nil {
		return dst, err
	}
	return t.appendBinary(dst, cv, depth)
}

func appendFloatBits(dst []byte, f float64) []byte {
	bits := math.Float64bits(f)
	switch {
	case f == 0:
		bits = 0
	case f != f:
		bits = canonicalNaN
	}
	return binary.BigEndian.AppendUint64(dst, bits)
}

func (t *Type) appendMapBinary(dst []byte, m map[string]any, depth int) ([]byte, error) {
	if t.Key.Kind == String {
		dst = binary.AppendUvarint(dst, uint64(len(m)))
		for _, k := range sortedKeys(m, false) {
			dst = append(binary.AppendUvarint(dst, uint64(len(k))), k...)
			var err error
			if dst, err = t.Elem.appendBinary(dst, m[k], depth); err != nil {
				return dst, prefixPath(err, keySeg(k))
			}
		}
		return dst, nil
	}
	type entry struct {
		key int64
		k   string
	}
	entries := make([]entry, 0, len(m))
	for k := range m {
		if ck, detail := canonicalIntKey(k); detail != "" || ck != k {
			// Not canonical: convert the whole map (which reports a bad key).
			cv, _, err := t.conv(m)
			if err != nil {
				return dst, err
			}
			return t.appendMapBinary(dst, cv.(map[string]any), depth)
		}
		i, _ := strconv.ParseInt(k, 10, 64)
		entries = append(entries, entry{i, k})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmpInt(a.key, b.key) })
	dst = binary.AppendUvarint(dst, uint64(len(entries)))
	for _, e := range entries {
		dst = binary.AppendVarint(dst, e.key)
		var err error
		if dst, err = t.Elem.appendBinary(dst, m[e.k], depth); err != nil {
			return dst, prefixPath(err, keySeg(e.k))
		}
	}
	return dst, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func appendAnyBinary(t *Type, dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxAnyDepth {
		return dst, valueErr(t, "…", detailTooDeep)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, anyNull), nil
	case bool:
		if x {
			return append(dst, anyTrue), nil
		}
		return append(dst, anyFalse), nil
	case int64:
		if x >= -MaxSafeInt && x <= MaxSafeInt {
			return binary.AppendVarint(append(dst, anyInt), x), nil
		}
	case float64:
		if i, detail := floatToInt(x); detail == "" {
			return binary.AppendVarint(append(dst, anyInt), i), nil
		}
		return appendFloatBits(append(dst, anyFloat), x), nil
	case string:
		dst = binary.AppendUvarint(append(dst, anyString), uint64(len(x)))
		return append(dst, x...), nil
	case []any:
		dst = binary.AppendUvarint(append(dst, anyList), uint64(len(x)))
		for i, e := range x {
			var err error
			if dst, err = appendAnyBinary(t, dst, e, depth+1); err != nil {
				return dst, prefixPath(err, indexSeg(i))
			}
		}
		return dst, nil
	case map[string]any:
		dst = binary.AppendUvarint(append(dst, anyObject), uint64(len(x)))
		for _, k := range sortedKeys(x, false) {
			dst = append(binary.AppendUvarint(dst, uint64(len(k))), k...)
			var err error
			if dst, err = appendAnyBinary(t, dst, x[k], depth+1); err != nil {
				return dst, prefixPath(err, keySeg(k))
			}
		}
		return dst, nil
	}
	cv, _, err := convAny(t, v, depth)
	if err != nil {
		return dst, err
	}
	return appendAnyBinary(t, dst, cv, depth)
}

// DecodeBinary decodes one value of t from the front of b and returns it with the rest of b.
// It never panics: bytes that are not a canonical encoding of a value of t give an error
// wrapping ErrCorrupt. The value does not alias b.
func (t *Type) DecodeBinary(b []byte) (v any, rest []byte, err error) {
	d := binDecoder{b: b}
	v, err = d.decode(t, 0)
	if err != nil {
		return nil, b, err
	}
	return v, b[d.off:], nil
}

// CheckBinary reports, as DecodeBinary would, whether b starts with a canonical encoding of a
// value of t, and returns the rest of b, without building the value: it allocates nothing for
// scalars, records, tuples and lists (a restore checks every stored value with it).
func (t *Type) CheckBinary(b []byte) (rest []byte, err error) {
	d := binDecoder{b: b}
	if err := d.skip(t, 0); err != nil {
		return b, err
	}
	return b[d.off:], nil
}

// binDecoder reads canonical binary values; off is the next unread byte.
type binDecoder struct {
	b   []byte
	off int
}

func (d *binDecoder) corrupt(t *Type, format string, args ...any) error {
	return fmt.Errorf("decode %s at byte %d: %s: %w", t, d.off, fmt.Sprintf(format, args...), ErrCorrupt)
}

func (d *binDecoder) byte(t *Type) (byte, error) {
	if d.off >= len(d.b) {
		return 0, d.corrupt(t, "unexpected end of data")
	}
	c := d.b[d.off]
	d.off++
	return c, nil
}

// flag reads a 0/1 byte.
func (d *binDecoder) flag(t *Type) (bool, error) {
	c, err := d.byte(t)
	if err == nil && c > 1 {
		d.off--
		err = d.corrupt(t, "flag byte %d", c)
	}
	return c == 1, err
}

// uvarint reads a minimal uvarint.
func (d *binDecoder) uvarint(t *Type) (uint64, error) {
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		return 0, d.corrupt(t, "bad varint")
	}
	if n > 1 && d.b[d.off+n-1] == 0 {
		return 0, d.corrupt(t, "non-minimal varint")
	}
	d.off += n
	return x, nil
}

func (d *binDecoder) int(t *Type) (int64, error) {
	u, err := d.uvarint(t)
	if err != nil {
		return 0, err
	}
	i := int64(u>>1) ^ -int64(u&1)
	if i < -MaxSafeInt || i > MaxSafeInt {
		return 0, d.corrupt(t, "int %d beyond ±(2^53-1)", i)
	}
	return i, nil
}

func (d *binDecoder) float(t *Type) (float64, error) {
	if len(d.b)-d.off < 8 {
		return 0, d.corrupt(t, "unexpected end of data")
	}
	bits := binary.BigEndian.Uint64(d.b[d.off:])
	f := math.Float64frombits(bits)
	if bits == 1<<63 || f != f && bits != canonicalNaN {
		return 0, d.corrupt(t, "non-canonical float")
	}
	d.off += 8
	return f, nil
}

// count reads a length or element count, at most the bytes left (every value takes a byte).
func (d *binDecoder) count(t *Type) (int, error) {
	n, err := d.uvarint(t)
	if err != nil {
		return 0, err
	}
	if n > uint64(len(d.b)-d.off) {
		return 0, d.corrupt(t, "count %d beyond the %d bytes left", n, len(d.b)-d.off)
	}
	return int(n), nil
}

func (d *binDecoder) bytes(t *Type) ([]byte, error) {
	n, err := d.count(t)
	if err != nil {
		return nil, err
	}
	d.off += n
	return d.b[d.off-n : d.off], nil
}

func (d *binDecoder) decode(t *Type, depth int) (any, error) {
	switch t.Kind {
	case Bool:
		return d.flag(t)
	case Int:
		return d.int(t)
	case Float:
		return d.float(t)
	case String:
		b, err := d.bytes(t)
		return string(b), err
	case Bytes:
		b, err := d.bytes(t)
		return slices.Clone(b), err
	case Optional:
		present, err := d.flag(t)
		if err != nil || !present {
			return nil, err
		}
		return d.decode(t.Elem, depth)
	case Any:
		return d.decodeAny(t, depth)
	case Record:
		m := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			v, err := d.decode(f.Type, depth)
			if err != nil {
				return nil, err
			}
			m[f.Name] = v
		}
		return m, nil
	case Tuple:
		s := make([]any, len(t.Elems))
		for i, e := range t.Elems {
			v, err := d.decode(e, depth)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case List:
		n, err := d.count(t)
		if err != nil {
			return nil, err
		}
		s := make([]any, n)
		for i := range s {
			if s[i], err = d.decode(t.Elem, depth); err != nil {
				return nil, err
			}
		}
		return s, nil
	case Map:
		return d.decodeMap(t, depth)
	}
	return nil, d.corrupt(t, "unknown kind %d", t.Kind)
}

// skip reads one value of t as decode does, without building it; maps and any values are
// decoded (their checks of key order and nesting are decode's).
func (d *binDecoder) skip(t *Type, depth int) error {
	var err error
	switch t.Kind {
	case Bool:
		_, err = d.flag(t)
	case Int:
		_, err = d.int(t)
	case Float:
		_, err = d.float(t)
	case String, Bytes:
		_, err = d.bytes(t)
	case Optional:
		var present bool
		if present, err = d.flag(t); err == nil && present {
			err = d.skip(t.Elem, depth)
		}
	case Record:
		for _, f := range t.Fields {
			if err = d.skip(f.Type, depth); err != nil {
				break
			}
		}
	case Tuple:
		for _, e := range t.Elems {
			if err = d.skip(e, depth); err != nil {
				break
			}
		}
	case List:
		var n int
		if n, err = d.count(t); err == nil {
			for range n {
				if err = d.skip(t.Elem, depth); err != nil {
					break
				}
			}
		}
	default:
		_, err = d.decode(t, depth)
	}
	return err
}

func (d *binDecoder) decodeMap(t *Type, depth int) (any, error) {
	n, err := d.count(t)
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, n)
	var prevInt int64
	var prevStr string
	for i := range n {
		var k string
		if t.Key.Kind == Int {
			ik, err := d.int(t.Key)
			if err != nil {
				return nil, err
			}
			if i > 0 && ik <= prevInt {
				return nil, d.corrupt(t, "map keys out of order")
			}
			prevInt, k = ik, strconv.FormatInt(ik, 10)
		} else {
			kb, err := d.bytes(t.Key)
			if err != nil {
				return nil, err
			}
			if i > 0 && string(kb) <= prevStr {
				return nil, d.corrupt(t, "map keys out of order")
			}
			k = string(kb)
			prevStr = k
		}
		if m[k], err = d.decode(t.Elem, depth); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (d *binDecoder) decodeAny(t *Type, depth int) (any, error) {
	if depth > maxAnyDepth {
		return nil, d.corrupt(t, "nested too deeply")
	}
	tag, err := d.byte(t)
	if err != nil {
		return nil, err
	}
	switch tag {
	case anyNull:
		return nil, nil
	case anyFalse:
		return false, nil
	case anyTrue:
		return true, nil
	case anyInt:
		return d.int(t)
	case anyFloat:
		f, err := d.float(t)
		if _, detail := floatToInt(f); err == nil && detail == "" {
			return nil, d.corrupt(t, "integral float %v (an int)", f)
		}
		return f, err
	case anyString:
		b, err := d.bytes(t)
		return string(b), err
	case anyList:
		n, err := d.count(t)
		if err != nil {
			return nil, err
		}
		s := make([]any, n)
		for i := range s {
			if s[i], err = d.decodeAny(t, depth+1); err != nil {
				return nil, err
			}
		}
		return s, nil
	case anyObject:
		n, err := d.count(t)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, n)
		prev := ""
		for i := range n {
			kb, err := d.bytes(t)
			if err != nil {
				return nil, err
			}
			if i > 0 && strings.Compare(string(kb), prev) <= 0 {
				return nil, d.corrupt(t, "object keys out of order")
			}
			prev = string(kb)
			if m[prev], err = d.decodeAny(t, depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	d.off--
	return nil, d.corrupt(t, "unknown any tag %d", tag)
}
