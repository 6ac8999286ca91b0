package schema

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want any
	}{
		{"bool", true, true},
		{"int", int64(5), int64(5)},
		{"int", 5, int64(5)},
		{"int", int32(-5), int64(-5)},
		{"int", uint16(7), int64(7)},
		{"int", float64(3), int64(3)},
		{"int", json.Number("42"), int64(42)},
		{"int", json.Number("1e3"), int64(1000)},
		{"int", float64(MaxSafeInt), int64(MaxSafeInt)},
		{"float", 1.5, 1.5},
		{"float", int64(2), 2.0},
		{"float", json.Number("2.5"), 2.5},
		{"string", "x", "x"},
		{"bytes", []byte("hi"), []byte("hi")},
		{"bytes", "aGk=", []byte("hi")},
		{"bytes", "aGk", []byte("hi")},
		{"int?", nil, nil},
		{"int?", 3, int64(3)},
		{"{a: int, b: string?}", map[string]any{"a": 1}, map[string]any{"a": int64(1), "b": nil}},
		{"{a: int}", map[string]any{"a": int64(1), "extra": true}, map[string]any{"a": int64(1)}},
		{"(bool, int)", []any{true, 2.0}, []any{true, int64(2)}},
		{"list<int>", []any{1, 2}, []any{int64(1), int64(2)}},
		{"list<int>", []any{}, []any{}},
		{"map<string, int>", map[string]any{"k": 1.0}, map[string]any{"k": int64(1)}},
		{"map<int, bool>", map[string]any{"007": true, "-3": false}, map[string]any{"7": true, "-3": false}},
		{"any", map[string]any{"a": []any{1.0, 2.5, json.Number("3"), []byte("hi"), nil}},
			map[string]any{"a": []any{int64(1), 2.5, int64(3), "aGk=", nil}}},
		{"{t: any}", map[string]any{}, map[string]any{"t": nil}},
	}
	for _, tt := range tests {
		got, err := MustParse(tt.typ).Convert(tt.in)
		if err != nil {
			t.Errorf("%s.Convert(%#v): %v", tt.typ, tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s.Convert(%#v) = %#v, want %#v", tt.typ, tt.in, got, tt.want)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		typ  string
		in   any
		want string
	}{
		{"int", "x", `$: expected int, got "x"`},
		{"int", 1.5, `$: expected int, got 1.5 (not an integer)`},
		{"int", int64(MaxSafeInt + 1), `$: expected int, got 9007199254740992 (beyond ±(2^53-1): declare large ids as string)`},
		{"int", float64(1 << 60), `$: expected int, got 1.152921504606847e+18 (beyond ±(2^53-1): declare large ids as string)`},
		{"int", json.Number("9007199254740993"), `$: expected int, got 9007199254740993 (beyond ±(2^53-1): declare large ids as string)`},
		{"int", uint64(1 << 63), `$: expected int, got 9223372036854775808 (beyond ±(2^53-1): declare large ids as string)`},
		{"int", nil, `$: expected int, got null`},
		{"{alarm: {time: int}}", map[string]any{"alarm": map[string]any{"time": "x"}}, `$.alarm.time: expected int, got "x"`},
		{"{alarm: {time: int}}", map[string]any{"alarm": map[string]any{}}, `$.alarm.time: expected int, got nothing (missing field)`},
		{"(bool, int)", []any{true, "2"}, `$[1]: expected int, got "2"`},
		{"(bool, int)", []any{true}, `$: expected (bool, int), got [true] (a tuple of 2 elements)`},
		{"{m: map<string, int>}", map[string]any{"m": map[string]any{"k": true}}, `$.m["k"]: expected int, got true`},
		{"map<int, int>", map[string]any{"x": 1}, `$["x"]: expected int, got "x" (an int map key must be a decimal integer)`},
		{"bytes", "!!", `$: expected bytes, got "!!" (not base64)`},
		{"any", int64(1 << 60), `$: expected any, got 1152921504606846976 (beyond ±(2^53-1): declare large ids as string)`},
		{"any", struct{}{}, `$: expected any, got {} (not a JSON value)`},
		{"string", "a very long string that goes on and on and on and on and on and on and on", ``},
		{"list<string>", []any{"a", 1}, `$[1]: expected string, got 1`},
	}
	for _, tt := range tests {
		_, err := MustParse(tt.typ).Convert(tt.in)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s.Convert(%#v): %v", tt.typ, tt.in, err)
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || err.Error() != tt.want {
			t.Errorf("%s.Convert(%#v):\n got %v\nwant %s", tt.typ, tt.in, err, tt.want)
		}
	}
}

func TestConvertLongValueShortened(t *testing.T) {
	long := make([]any, 100)
	for i := range long {
		long[i] = "x"
	}
	_, err := MustParse("int").Convert(long)
	var ve *ValueError
	if !errors.As(err, &ve) || len(ve.Got) > maxGot+len("…") {
		t.Errorf("got %q", ve.Got)
	}
}

func TestConvertCanonicalIsUnchanged(t *testing.T) {
	typ := MustParse("{type: string, room: int, time: int, tags: list<string>, m: map<int, float?>}")
	v := map[string]any{"type": "motion", "room": int64(17), "time": int64(1700000000000),
		"tags": []any{"a"}, "m": map[string]any{"1": 2.5, "2": nil}}
	got, err := typ.Convert(v)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(got).Pointer() != reflect.ValueOf(v).Pointer() {
		t.Error("a canonical value was copied")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = typ.Convert(v) }); n != 0 {
		t.Errorf("Convert of a canonical value allocates %v times", n)
	}
}

func TestConvertMessagesStayShort(t *testing.T) {
	deep := any(int64(1))
	for range 20000 {
		deep = []any{deep}
	}
	tests := []struct {
		typ  string
		v    any
		want string
	}{
		{"int", Foreign("a function"), "$: expected int, got a function"},
		{"string", func() {}, "$: expected string, got a value with no JSON form"},
		{"int", 1e300, "$: expected int, got 1e+300 (beyond ±(2^53-1))"},
		{"int", float64(1 << 60), "$: expected int, got 1.152921504606847e+18 (beyond ±(2^53-1): declare large ids as string)"},
		{"float", math.Inf(-1), "$: expected float, got -Inf (not a finite number: JSON has no NaN or Infinity)"},
	}
	for _, tc := range tests {
		if _, err := MustParse(tc.typ).Convert(tc.v); err == nil || err.Error() != tc.want {
			t.Errorf("Convert(%v) to %s: got %v, want %s", tc.v, tc.typ, err, tc.want)
		}
	}
	_, err := MustParse("any").Convert(deep)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "…") {
		t.Errorf("a deep value: got %d bytes: %.500v", len(err.Error()), err)
	}
}
