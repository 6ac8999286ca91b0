package schema

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestBinaryRoundTrip(t *testing.T) {
	tests := []struct {
		typ string
		v   any
		enc []byte // expected encoding, when given
	}{
		{"bool", true, []byte{1}},
		{"int", int64(-3), []byte{5}},
		{"int", int64(MaxSafeInt), nil},
		{"int", int64(-MaxSafeInt), nil},
		{"float", 1.5, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{"string", "hé", []byte{3, 'h', 0xc3, 0xa9}},
		{"bytes", []byte{0, 1}, []byte{2, 0, 1}},
		{"int?", nil, []byte{0}},
		{"int?", int64(1), []byte{1, 2}},
		{"(bool, int)", []any{true, int64(1)}, []byte{1, 2}},
		{"{type: string, room: int}", map[string]any{"type": "m", "room": int64(17)}, []byte{1, 'm', 34}},
		{"list<int>", []any{int64(1), int64(2)}, []byte{2, 2, 4}},
		{"list<int>", []any{}, []byte{0}},
		{"map<int, bool>", map[string]any{"10": true, "-1": false, "2": true}, []byte{3, 1, 0, 4, 1, 20, 1}},
		{"map<string, int>", map[string]any{"b": int64(1), "a": int64(2)}, []byte{2, 1, 'a', 4, 1, 'b', 2}},
		{"any", nil, []byte{anyNull}},
		{"any", map[string]any{"b": []any{int64(1), 2.5, "x", true, false, nil}, "a": map[string]any{}},
			nil},
		{"{a: any, b: list<map<string, (int, float?)>>}", map[string]any{"a": "x",
			"b": []any{map[string]any{"k": []any{int64(1), nil}, "j": []any{int64(2), 0.5}}}}, nil},
	}
	for _, tt := range tests {
		typ := MustParse(tt.typ)
		enc, err := typ.AppendBinary([]byte{0xEE}, tt.v)
		if err != nil {
			t.Errorf("%s: AppendBinary(%#v): %v", tt.typ, tt.v, err)
			continue
		}
		enc = enc[1:]
		if tt.enc != nil && !bytes.Equal(enc, tt.enc) {
			t.Errorf("%s: AppendBinary(%#v) = %v, want %v", tt.typ, tt.v, enc, tt.enc)
		}
		got, rest, err := typ.DecodeBinary(append(enc, 0xAB))
		if err != nil || !bytes.Equal(rest, []byte{0xAB}) {
			t.Errorf("%s: DecodeBinary(%v): %v, rest %v", tt.typ, enc, err, rest)
			continue
		}
		if !reflect.DeepEqual(got, tt.v) {
			t.Errorf("%s: round trip %#v -> %#v", tt.typ, tt.v, got)
		}
	}
}

func TestBinaryDeterministic(t *testing.T) {
	tests := []struct {
		typ  string
		a, b any
	}{
		{"float", 0.0, math.Copysign(0, -1)},
		{"float", math.NaN(), math.Float64frombits(0x7ff0000000000042)},
		{"any", 3.0, int64(3)},
		{"any", []byte("hi"), "aGk="},
		{"int", 3, int64(3)},
		{"map<int, int>", map[string]any{"07": int64(1)}, map[string]any{"7": int64(1)}},
		{"{a: int, b: int?}", map[string]any{"a": int64(1), "extra": 1}, map[string]any{"a": int64(1), "b": nil}},
	}
	for _, tt := range tests {
		typ := MustParse(tt.typ)
		ea, err1 := typ.AppendBinary(nil, tt.a)
		eb, err2 := typ.AppendBinary(nil, tt.b)
		if err1 != nil || err2 != nil || !bytes.Equal(ea, eb) {
			t.Errorf("%s: %#v -> %v (%v), %#v -> %v (%v)", tt.typ, tt.a, ea, err1, tt.b, eb, err2)
		}
	}
	// Many maps with the same content, built in different orders, encode alike.
	typ := MustParse("map<string, int>")
	var first []byte
	for i := range 20 {
		m := map[string]any{} // the same entries, inserted in a different order each time
		for j := range 50 {
			k := string(rune('a' + (i+j)%50))
			m[k] = int64(k[0])
		}
		enc, err := typ.AppendBinary(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = enc
		} else if !bytes.Equal(first, enc) {
			t.Fatal("equal maps encode differently")
		}
	}
}

func TestAppendBinaryErrors(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"{a: {b: int}}", map[string]any{"a": map[string]any{"b": "x"}}, `$.a.b: expected int, got "x"`},
		{"(bool, int)", []any{true}, `$: expected (bool, int), got [true] (a tuple of 2 elements)`},
		{"int", int64(1 << 60), `$: expected int, got 1152921504606846976 (beyond ±(2^53-1): declare large ids as string)`},
		{"map<int, int>", map[string]any{"x": int64(1)}, `$["x"]: expected int, got "x" (an int map key must be a decimal integer)`},
	}
	for _, tt := range tests {
		_, err := MustParse(tt.typ).AppendBinary(nil, tt.v)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.typ, err, tt.want)
		}
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	tests := []struct {
		typ string
		b   []byte
	}{
		{"bool", nil},
		{"bool", []byte{2}},
		{"int", []byte{0x80}},
		{"int", []byte{0x80, 0x00}}, // non-minimal
		{"int", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"float", []byte{1, 2, 3}},
		{"float", []byte{0x80, 0, 0, 0, 0, 0, 0, 0}}, // -0
		{"string", []byte{5, 'a'}},
		{"list<int>", []byte{200, 1}},
		{"int?", []byte{7}},
		{"map<string, int>", []byte{2, 1, 'b', 0, 1, 'a', 0}}, // unsorted
		{"map<int, int>", []byte{2, 2, 0, 2, 0}},              // duplicate
		{"any", []byte{9}},
		{"any", []byte{anyFloat, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}}, // 1.0 is an int
		{"(int, int)", []byte{2}},
	}
	for _, tt := range tests {
		_, _, err := MustParse(tt.typ).DecodeBinary(tt.b)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeBinary(%v) = %v, want ErrCorrupt", tt.typ, tt.b, err)
		}
		if _, err := MustParse(tt.typ).CheckBinary(tt.b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: CheckBinary(%v) = %v, want ErrCorrupt", tt.typ, tt.b, err)
		}
	}
}

// fuzzTypes are the types FuzzBinary decodes with (and checks with CheckBinary, which must agree).
var fuzzTypes = []string{
	"bool", "int", "float", "string", "bytes", "any", "int?", "(bool, int)",
	"{type: string, room: int, time: int}", "list<float?>", "map<int, string>",
	"map<string, list<any>>", "{a: (int, bytes), b: map<string, {c: bool?}>?}",
}

func FuzzBinary(f *testing.F) {
	f.Add(uint8(0), []byte{1})
	f.Add(uint8(5), []byte{anyObject, 1, 1, 'a', anyList, 2, anyInt, 4, anyFloat, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(8), []byte{1, 'm', 34, 2})
	f.Add(uint8(10), []byte{2, 1, 1, 'x', 4, 1, 'y'})
	types := make([]*Type, len(fuzzTypes))
	for i, s := range fuzzTypes {
		types[i] = MustParse(s)
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		typ := types[int(which)%len(types)]
		v, rest, err := typ.DecodeBinary(b)
		checkRest, checkErr := typ.CheckBinary(b)
		if (err == nil) != (checkErr == nil) || err == nil && len(checkRest) != len(rest) {
			t.Fatalf("%s: %v: DecodeBinary gives %d bytes left, %v; CheckBinary %d, %v", typ, b, len(rest), err, len(checkRest), checkErr)
		}
		if err != nil {
			return
		}
		enc, err := typ.AppendBinary(nil, v)
		if err != nil {
			t.Fatalf("%s: re-encode of %#v: %v", typ, v, err)
		}
		if used := b[:len(b)-len(rest)]; !bytes.Equal(enc, used) {
			t.Fatalf("%s: %v decoded to %#v, which encodes to %v", typ, used, v, enc)
		}
		again, _, err := typ.DecodeBinary(enc)
		if err != nil || !reflect.DeepEqual(again, v) && !hasNaN(v) {
			t.Fatalf("%s: round trip of %#v: %#v, %v", typ, v, again, err)
		}
	})
}

// hasNaN reports whether v holds a NaN (which DeepEqual never finds equal).
func hasNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return x != x
	case []any:
		for _, e := range x {
			if hasNaN(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNaN(e) {
				return true
			}
		}
	}
	return false
}
