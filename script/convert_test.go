package script

import (
	"reflect"
	"testing"
)

func TestToJSFromJSRoundTrip(t *testing.T) {
	r := newRuntime(t, nil, nil, fn("x => x"))
	tests := []struct {
		name string
		in   any
		want any // nil: in itself
	}{
		{name: "null", in: nil},
		{name: "bool", in: true},
		{name: "int", in: int64(42)},
		{name: "negative int", in: int64(-7)},
		{name: "max safe int", in: int64(9007199254740991)},
		{name: "float", in: 1.5},
		{name: "integral float", in: 2.0, want: int64(2)}, // schema.Type.Convert makes it a float again
		{name: "string", in: "héllo ✓"},
		{name: "bytes", in: []byte{0, 1, 255}, want: "AAH/"},
		{name: "empty list", in: []any{}},
		{name: "list", in: []any{int64(1), "a", nil, 0.25}},
		{name: "empty record", in: map[string]any{}},
		{name: "record", in: map[string]any{
			"room": "kitchen", "temp": 21.5, "time": int64(1700000000000), "raw": []byte("hi"),
			"tags": []any{"a", map[string]any{"deep": true}},
		}, want: map[string]any{
			"room": "kitchen", "temp": 21.5, "time": int64(1700000000000), "raw": "aGk=",
			"tags": []any{"a", map[string]any{"deep": true}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = tc.in
			}
			v, err := r.Func(0, 0).Call(r.ToJS(tc.in)) // through a JS call, not just goja values
			if err != nil {
				t.Fatal(err)
			}
			if got := exported(r.FromJS(v)); !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestFromJS(t *testing.T) {
	tests := []struct {
		code string
		want any
	}{
		{"undefined", nil},
		{"null", nil},
		{"1/4", 0.25},
		{"2**53 - 1", int64(9007199254740991)},
		{"-0.5", -0.5},
		{`"x" + 1`, "x1"},
		{"({a: undefined, b: null, c: [true]})", map[string]any{"a": nil, "b": nil, "c": []any{true}}},
		{`[[{room: "k", n: 1}], {count: 2}]`, []any{[]any{map[string]any{"room": "k", "n": int64(1)}}, map[string]any{"count": int64(2)}}},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn("() => "+tc.code))
			if got := call(t, r, 0); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if got := exported((&Runtime{}).FromJS(nil)); got != nil {
		t.Errorf("FromJS(nil) = %v, want nil", got)
	}
}

func TestToJSAsSeenByJS(t *testing.T) {
	rec := map[string]any{"c": int64(3), "a": []byte{1}, "b": []any{int64(1)}, "n": nil}
	tests := []struct {
		code string
		want any
	}{
		{"e => Object.keys(e).join()", "a,b,c,n"}, // sorted, the same on every run
		{"e => JSON.stringify(e)", `{"a":"AQ==","b":[1],"c":3,"n":null}`},
		{"e => typeof e.c + typeof e.a + Array.isArray(e.b)", "numberstringtrue"},
		{"e => e.c === 3 && e.n === null && Object.getPrototypeOf(e) === Object.prototype", true},
		{"e => { e.c = 4; e.b.push(2); delete e.a; return e.c }", int64(4)},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn(tc.code))
			v, err := r.Func(0, 0).Call(r.ToJS(rec))
			if err != nil {
				t.Fatal(err)
			}
			if got := exported(r.FromJS(v)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	// JS gets a copy: the Go record is untouched by the mutations above.
	if want := (map[string]any{"c": int64(3), "a": []byte{1}, "b": []any{int64(1)}, "n": nil}); !reflect.DeepEqual(rec, want) {
		t.Errorf("record changed to %#v", rec)
	}
}
