package script

import (
	"errors"
	"reflect"
	"testing"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// fromJSAs calls code with no argument and converts its result with FromJSAs, checking that
// the result and the error are those of FromJS and Convert.
func fromJSAs(t *testing.T, code, typ string) (any, error) {
	t.Helper()
	r := newRuntime(t, nil, nil, fn(code))
	v, err := r.Func(0, 0).Call()
	if err != nil {
		t.Fatal(err)
	}
	ty := schema.MustParse(typ)
	got, err := r.FromJSAs(v, ty)
	want, wantErr := ty.Convert(exported(r.FromJS(v)))
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(err, wantErr) {
		t.Errorf("FromJSAs = %#v, %v; Convert(FromJS) = %#v, %v", got, err, want, wantErr)
	}
	return got, err
}

func TestFromJSAs(t *testing.T) {
	tests := []struct {
		code, typ string
		want      any
	}{
		{`() => ({type: "motion", room: 3, time: 2**53 - 1})`, "{type: string, room: int, time: int}",
			map[string]any{"type": "motion", "room": int64(3), "time": int64(9007199254740991)}},
		{`() => ({b: 1, a: 2, extra: "dropped"})`, "{a: int, b: int}", map[string]any{"a": int64(2), "b": int64(1)}},
		{`() => ({a: undefined})`, "{a: int?, b: string?, c: any}", map[string]any{"a": nil, "b": nil, "c": nil}},
		{`() => 4 / 2`, "int", int64(2)},
		{`() => -(2**53 - 1)`, "int", int64(-9007199254740991)},
		{`() => -0`, "int", int64(0)},
		{`() => 3`, "float", 3.0},
		{`() => 0.5 + 0.25`, "float", 0.75},
		{`() => null`, "int?", nil},
		{`() => undefined`, "(int, int)?", nil},
		{`() => true`, "bool", true},
		{`() => "✓ ok"`, "string", "✓ ok"},
		{`() => "aGk="`, "bytes", []byte("hi")},
		{`() => "aGk"`, "bytes", []byte("hi")},
		{`() => [[{type: "ALARM", room: 1, time: 2}], [true, 5]]`, "(list<{type: string, room: int, time: int}>, (bool, int)?)",
			[]any{[]any{map[string]any{"type": "ALARM", "room": int64(1), "time": int64(2)}}, []any{true, int64(5)}}},
		{`() => [[], null]`, "(list<int>, (bool, int)?)", []any{[]any{}, nil}},
		{`() => [1, , 3]`, "list<int?>", []any{int64(1), nil, int64(3)}},
		{`() => ({"1": "a", "02": "b"})`, "map<int, string>", map[string]any{"1": "a", "2": "b"}},
		{`() => ({a: [1, {b: 2.5}], n: null})`, "any", map[string]any{"a": []any{int64(1), map[string]any{"b": 2.5}}, "n": nil}},
		{`() => ({m: {x: 1}})`, "{m: map<string, int>}", map[string]any{"m": map[string]any{"x": int64(1)}}},
	}
	for _, tc := range tests {
		t.Run(tc.code+" as "+tc.typ, func(t *testing.T) {
			got, err := fromJSAs(t, tc.code, tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestFromJSAsErrorsAreConverts(t *testing.T) {
	tests := []struct {
		code, typ string
		want      string
	}{
		{`() => ({alarm: {time: "x"}})`, "{alarm: {time: int}}", `$.alarm.time: expected int, got "x"`},
		{`() => ({alarm: {}})`, "{alarm: {time: int}}", `$.alarm.time: expected int, got nothing (missing field)`},
		{`() => 2**53`, "int", `$: expected int, got 9007199254740992 (beyond ±(2^53-1): declare large ids as string)`},
		{`() => -(2**53)`, "int", `$: expected int, got -9007199254740992 (beyond ±(2^53-1): declare large ids as string)`},
		{`() => 2.5`, "int", `$: expected int, got 2.5 (not an integer)`},
		{`() => Infinity`, "int", `$: expected int, got +Inf (not a finite number: JSON has no NaN or Infinity)`},
		{`() => 1e300`, "int", `$: expected int, got 1e+300 (beyond ±(2^53-1))`},
		{`() => NaN`, "float", `$: expected float, got NaN (not a finite number: JSON has no NaN or Infinity)`},
		{`() => ({x: -Infinity})`, "any", `$["x"]: expected any, got -Inf (not a finite number: JSON has no NaN or Infinity)`},
		{`() => Symbol("s")`, "string", `$: expected string, got a symbol`},
		{`() => ({f: e => e})`, "{f: string}", `$.f: expected string, got a function`},
		{`() => { const o = {}; o.self = o; return o }`, "any", `$["self"]: expected any, got a cycle (an object that contains itself)`},
		{`() => { const a = []; a[1e8] = 1; return a }`, "list<int>", `$: expected list<int>, got an array of 100000001 elements (the limit is 1048576)`},
		{`() => new Array(4294967295)`, "any", `$: expected any, got an array of 4294967295 elements (the limit is 1048576)`},
		{`() => "3"`, "int", `$: expected int, got "3"`},
		{`() => 1`, "bool", `$: expected bool, got 1`},
		{`() => 1`, "string", `$: expected string, got 1`},
		{`() => null`, "float", `$: expected float, got null`},
		{`() => [1, 2, 3]`, "(int, int)", `$: expected (int, int), got [1,2,3] (a tuple of 2 elements)`},
		{`() => [[{type: 1}], [true, 5]]`, "(list<{type: string}>, (bool, int)?)", `$[0][0].type: expected string, got 1`},
		{`() => [[], [true, "5"]]`, "(list<int>, (bool, int)?)", `$[1][1]: expected int, got "5"`},
		{`() => ({a: 1})`, "list<int>", `$: expected list<int>, got {"a":1}`},
		{`() => [1]`, "{a: int?}", `$: expected {a: int?}, got [1]`},
		{`() => new Date(0)`, "{a: int?}", `$: expected {a: int?}, got a Date (return its getTime() or toISOString())`},
		{`() => "%%"`, "bytes", `$: expected bytes, got "%%" (not base64)`},
		{`() => ({"x": 1})`, "map<int, int>", `$["x"]: expected int, got "x" (an int map key must be a decimal integer)`},
		// bytes, maps and any inside a record or list: the path starts at the root
		{`() => ({b: "not base64!"})`, "{b: bytes}", `$.b: expected bytes, got "not base64!" (not base64)`},
		{`() => ({m: {a: 1}})`, "{m: map<int, int>}", `$.m["a"]: expected int, got "a" (an int map key must be a decimal integer)`},
		{`() => [{}, {a: "x"}]`, "list<map<string, int>>", `$[1]["a"]: expected int, got "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.code+" as "+tc.typ, func(t *testing.T) {
			_, err := fromJSAs(t, tc.code, tc.typ)
			var ve *schema.ValueError
			if !errors.As(err, &ve) || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestFromJSAsReadsFieldsThroughGet(t *testing.T) {
	// Unlike Export, Get sees getters and the prototype chain: a class instance is a record.
	r := newRuntime(t, nil, nil, fn(`() => new (class { constructor() { this.a = 1 } get b() { return this.a + 1 } })()`))
	v, err := r.Func(0, 0).Call()
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.FromJSAs(v, schema.MustParse("{a: int, b: int}"))
	if want := map[string]any{"a": int64(1), "b": int64(2)}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, %v; want %#v", got, err, want)
	}
}

func TestFromJSAsUnwrapsWrappers(t *testing.T) {
	stateT := schema.MustParse("(bool, int)")
	recT := schema.MustParse("{room: string, raw: bytes, n: int}")
	rec := func() map[string]any { return map[string]any{"room": "k", "raw": []byte("hi"), "n": int64(1)} }
	tests := []struct {
		name, code string
		arg        func(r *Runtime) (goja.Value, any) // the argument and the Go value in it
		typ        *schema.Type
		want       any // nil: the Go value itself, the same slice or map
	}{
		{"state returned", "s => [[], s]",
			func(r *Runtime) (goja.Value, any) { s := []any{true, int64(5)}; return r.ToJSTyped(s, stateT), s },
			schema.TupleOf(schema.ListOf(recT), schema.OptionalOf(stateT)), nil},
		{"untyped state returned", "s => s",
			func(r *Runtime) (goja.Value, any) { s := []any{true, int64(5)}; return r.ToJS(s), s },
			stateT, nil},
		{"state written", "s => { s[1] = s[1] + 1; return s }",
			func(r *Runtime) (goja.Value, any) { s := []any{true, int64(5)}; return r.ToJSTyped(s, stateT), s },
			stateT, []any{true, int64(6)}},
		{"record returned: bytes stay bytes", "e => e",
			func(r *Runtime) (goja.Value, any) { e := rec(); return r.ToJSTyped(e, recT), e },
			recT, nil},
		{"untyped record returned: bytes via base64", "e => e",
			func(r *Runtime) (goja.Value, any) { e := rec(); return r.ToJS(e), e },
			recT, rec()},
		{"record as another type", "e => e",
			func(r *Runtime) (goja.Value, any) { e := rec(); return r.ToJSTyped(e, recT), e },
			schema.MustParse("{raw: string, n: float}"), map[string]any{"raw": "aGk=", "n": 1.0}},
		{"record written", "e => { e.n++; return e }",
			func(r *Runtime) (goja.Value, any) { e := rec(); return r.ToJSTyped(e, recT), e },
			recT, map[string]any{"room": "k", "raw": []byte("hi"), "n": int64(2)}},
		{"record in a list", "e => [e, e]",
			func(r *Runtime) (goja.Value, any) { e := rec(); return r.ToJSTyped(e, recT), e },
			schema.ListOf(recT), []any{rec(), rec()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn(tc.code))
			arg, in := tc.arg(r)
			v, err := r.Func(0, 0).Call(arg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.FromJSAs(v, tc.typ)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if tc.typ.Kind == schema.Tuple && tc.typ.Elems[0].Kind == schema.List {
					got = got.([]any)[1] // the state of [outputs, state]
				}
				if !sameContainer(got, in) {
					t.Errorf("got %#v, want the Go value itself", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if _, orig := tc.arg(r); !reflect.DeepEqual(in, orig) {
				t.Errorf("JS changed the Go value: %#v", in)
			}
		})
	}
}

func TestFromJSAsNeverRounds(t *testing.T) {
	r := newRuntime(t, nil, nil, fn("x => x"))
	for _, n := range []int64{1<<53 + 1, -(1<<53 + 1), 1 << 62} {
		v, err := r.Func(0, 0).Call(r.ToJS(n)) // an int64 goja holds exactly, beyond what JS numbers do
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.FromJSAs(v, schema.ScalarOf(schema.Int))
		var ve *schema.ValueError
		if !errors.As(err, &ve) || ve.Detail == "" {
			t.Errorf("%d: got %v, %v; want a range error", n, got, err)
		}
	}
}
