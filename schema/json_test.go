package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		typ, in string
		want    any
	}{
		{"{type: string, room: int, time: int}", `{"type":"motion","room":17,"time":1700000000000}`,
			map[string]any{"type": "motion", "room": int64(17), "time": int64(1700000000000)}},
		{"{a: int, b: string?}", ` { "x": [1, {"y": null}], "a" : 1.0e0 } `, map[string]any{"a": int64(1), "b": nil}},
		{"{a: int}", `{"a": 1, "a": 2}`, map[string]any{"a": int64(2)}},
		{"(bool, float)", `[true, 2]`, []any{true, 2.0}},
		{"list<string>", `["a\n\u00e9\ud83d\ude00", "\ud800"]`, []any{"a\né😀", "\ufffd"}},
		{"list<int>", `[]`, []any{}},
		{"map<int, bool>", `{"01": true}`, map[string]any{"1": true}},
		{"bytes", `"aGk="`, []byte("hi")},
		{"int?", `null`, nil},
		{"float", `-1.5e-3`, -1.5e-3},
		{"int", `9007199254740991`, int64(MaxSafeInt)},
		{"any", `{"a": [1, 2.5, 3.0, "x", null, true, 1e300]}`,
			map[string]any{"a": []any{int64(1), 2.5, int64(3), "x", nil, true, 1e300}}},
	}
	for _, tt := range tests {
		typ := MustParse(tt.typ)
		got, err := typ.DecodeJSON([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: DecodeJSON(%s): %v", tt.typ, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: DecodeJSON(%s) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
		}
		// The generic path (encoding/json + Convert) agrees.
		var generic any
		dec := json.NewDecoder(bytes.NewReader([]byte(tt.in)))
		dec.UseNumber()
		if err := dec.Decode(&generic); err != nil {
			t.Fatal(err)
		}
		conv, err := typ.Convert(generic)
		if err != nil || !reflect.DeepEqual(conv, tt.want) {
			t.Errorf("%s: Convert(json %s) = %#v, %v", tt.typ, tt.in, conv, err)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct {
		typ, in string
		want    string
		value   bool // a *ValueError rather than a *JSONError
	}{
		{"{alarm: {time: int}}", `{"alarm": {"time": "x"}}`, `$.alarm.time: expected int, got "x"`, true},
		{"{alarm: {time: int}}", `{"alarm": {}}`, `$.alarm.time: expected int, got nothing (missing field)`, true},
		{"(bool, int)", `[true, 1.5]`, `$[1]: expected int, got 1.5 (not an integer)`, true},
		{"(bool, int)", `[true, 1, 2]`, `$: expected (bool, int), got [true,1,2] (a tuple of 2 elements)`, true},
		{"(bool, int)", `[true]`, `$: expected (bool, int), got [true] (a tuple of 2 elements)`, true},
		{"{m: map<string, int>}", `{"m": {"k": [1]}}`, `$.m["k"]: expected int, got [1]`, true},
		{"map<int, int>", `{"k": 1}`, `$["k"]: expected int, got "k" (an int map key must be a decimal integer)`, true},
		{"int", `9007199254740992`, `$: expected int, got 9007199254740992 (beyond ±(2^53-1): declare large ids as string)`, true},
		{"any", `[12345678901234567890]`, `$[0]: expected any, got 12345678901234567890 (beyond ±(2^53-1): declare large ids as string)`, true},
		{"bytes", `"!"`, `$: expected bytes, got "!" (not base64)`, true},
		{"int", `1 2`, `invalid JSON at offset 2: unexpected data after the JSON value`, false},
		{"{a: int}", `{"a": 1,}`, `invalid JSON at offset 8: expected a string key, found '}'`, false},
		{"{a: int}", `{"a" 1}`, `invalid JSON at offset 5: expected ':' after object key, found '1'`, false},
		{"list<int>", `[1`, `invalid JSON at offset 2: unexpected end of input, expected ',' or ']'`, false},
		{"string", `"abc`, `invalid JSON at offset 4: unexpected end of input in string`, false},
		{"int", `01`, `invalid JSON at offset 1: unexpected data after the JSON value`, false},
		{"any", `tru`, `invalid JSON at offset 0: unexpected 't', expected a value`, false},
		{"{a: int}", `{"b": [1,}`, `invalid JSON at offset 9: unexpected '}', expected a value`, false},
		{"string", "\"a\x01\"", `invalid JSON at offset 2: control character in string`, false},
		{"string", `"\x"`, `invalid JSON at offset 2: invalid escape '\x'`, false},
	}
	for _, tt := range tests {
		_, err := MustParse(tt.typ).DecodeJSON([]byte(tt.in))
		var ve *ValueError
		var je *JSONError
		if err == nil || err.Error() != tt.want || tt.value != errors.As(err, &ve) || tt.value == errors.As(err, &je) {
			t.Errorf("%s: DecodeJSON(%s):\n got %v\nwant %s", tt.typ, tt.in, err, tt.want)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"{z: int, a: string, m: bool?}", map[string]any{"a": "x", "z": int64(1), "m": nil}, `{"z":1,"a":"x","m":null}`},
		{"(bool, float)", []any{true, 1e21}, `[true,1e+21]`},
		{"list<float>", []any{1.0, 0.5, 1e-7, 123456789.0, -0.000001}, `[1,0.5,1e-7,123456789,-0.000001]`},
		{"list<float>", []any{math.Copysign(0, -1), 0.0}, `[0,0]`}, // negative zero as JSON.stringify writes it
		{"bytes", []byte("hi"), `"aGk="`},
		{"map<int, int>", map[string]any{"10": int64(1), "9": int64(2), "-1": int64(3)}, `{"-1":3,"9":2,"10":1}`},
		{"map<string, int>", map[string]any{"b": int64(1), "a": int64(2)}, `{"a":2,"b":1}`},
		{"string", "a\"\\\n\t<>&\u2028\x01\xff", `"a\"\\\n\t<>&\u2028\u0001\ufffd"`},
		{"any", map[string]any{"b": []any{int64(1), nil}, "a": 2.5}, `{"a":2.5,"b":[1,null]}`},
		{"int", 7, `7`},
	}
	for _, tt := range tests {
		got, err := MustParse(tt.typ).AppendJSON([]byte("<"), tt.v)
		if err != nil {
			t.Errorf("%s: AppendJSON(%#v): %v", tt.typ, tt.v, err)
			continue
		}
		if string(got) != "<"+tt.want {
			t.Errorf("%s: AppendJSON(%#v) = %s, want <%s", tt.typ, tt.v, got, tt.want)
		}
	}
}

func TestAppendJSONErrors(t *testing.T) {
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"{a: {b: float}}", map[string]any{"a": map[string]any{"b": math.NaN()}}, `$.a.b: expected float, got NaN (no JSON form)`},
		{"list<int>", []any{int64(1), "x"}, `$[1]: expected int, got "x"`},
	}
	for _, tt := range tests {
		_, err := MustParse(tt.typ).AppendJSON(nil, tt.v)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %s", tt.typ, err, tt.want)
		}
	}
}

func TestJSONFloatsMatchEncodingJSON(t *testing.T) {
	typ := MustParse("float")
	for _, f := range []float64{0, 1, -1, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123.456e-10, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		got, err := typ.AppendJSON(nil, f)
		want, _ := json.Marshal(f)
		if err != nil || string(got) != string(want) {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		typ, in string
		want    any
		err     string
	}{
		{"int", " 17 ", int64(17), ""},
		{"int", "1e3", int64(1000), ""},
		{"int", "x", nil, `$: expected int, got "x"`},
		{"int", "9007199254740992", nil, `$: expected int, got "9007199254740992" (beyond ±(2^53-1): declare large ids as string)`},
		{"int", "", nil, `$: expected int, got ""`},
		{"int?", "", nil, ""},
		{"float", "2.5", 2.5, ""},
		{"bool", "TRUE", true, ""},
		{"string", " a ", " a ", ""},
		{"string", "", "", ""},
		{"string?", "", nil, ""},
		{"bytes", "aGk=", []byte("hi"), ""},
		{"any", "3", "3", ""},
		{"list<int>", "[1,2]", []any{int64(1), int64(2)}, ""},
		{"{a: int}", `{"a": "x"}`, nil, `$.a: expected int, got "x"`},
	}
	for _, tt := range tests {
		got, err := MustParse(tt.typ).ParseText(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: ParseText(%q): %v, want %s", tt.typ, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseText(%q) = %#v, %v, want %#v", tt.typ, tt.in, got, err, tt.want)
		}
	}
}
