package script

import (
	"reflect"
	"testing"

	"github.com/pipectl/pipectl/schema"
)

// sample is a record with every kind of field, and its type (declared order: not sorted).
var sampleType = schema.MustParse("{time: int, room: string, raw: bytes, tags: list<string>, pos: (float, float), meta: {ok: bool}, gone: int?}")

func sample() map[string]any {
	return map[string]any{
		"time": int64(7), "room": "kitchen", "raw": []byte("hi"),
		"tags": []any{"a", "b"}, "pos": []any{1.5, -2.0}, "meta": map[string]any{"ok": true}, "gone": nil,
	}
}

// jsSees calls code on the wrapped value of v (typed when t is not nil) and returns its
// result, checking that v is unchanged afterwards.
func jsSees(t *testing.T, code string, v any, typ *schema.Type, want func() any) any {
	t.Helper()
	r := newRuntime(t, nil, nil, fn(code))
	res, err := r.Func(0, 0).Call(r.ToJSTyped(v, typ))
	if err != nil {
		t.Fatal(err)
	}
	if orig := want(); !reflect.DeepEqual(v, orig) {
		t.Errorf("JS changed the Go value: %#v, want %#v", v, orig)
	}
	return exported(r.FromJS(res))
}

func TestRecordWrapperAsSeenByJS(t *testing.T) {
	tests := []struct {
		code  string
		typed bool
		want  any
	}{
		{"e => Object.keys(e).join()", true, "time,room,raw,tags,pos,meta,gone"},
		{"e => Object.keys(e).join()", false, "gone,meta,pos,raw,room,tags,time"},
		{"e => JSON.stringify(e)", true, `{"time":7,"room":"kitchen","raw":"aGk=","tags":["a","b"],"pos":[1.5,-2],"meta":{"ok":true},"gone":null}`},
		{"e => { const k = []; for (const x in e) k.push(x); return k.join() }", true, "time,room,raw,tags,pos,meta,gone"},
		{"e => Object.entries({...e}).map(([k, v]) => k + '=' + typeof v).join()", true,
			"time=number,room=string,raw=string,tags=object,pos=object,meta=object,gone=object"},
		{"e => Object.assign({}, e).room", true, "kitchen"},
		{"e => e.raw + e.meta.ok + e.pos[0]", true, "aGk=true1.5"},
		{"e => e.tags === e.tags && e.meta === e.meta", true, true},
		{`e => "room" in e && e.hasOwnProperty("gone") && !("nope" in e) && e.nope === undefined`, true, true},
		{"e => Object.getPrototypeOf(e) === Object.prototype && typeof e.toString", true, "function"},
		{"e => { e.time = 8; e.added = 1; delete e.raw; return Object.keys(e).join() + ':' + e.time }", true,
			"time,room,tags,pos,meta,gone,added:8"},
		{"e => { e.tags.push('c'); e.meta.ok = false; return [e.tags.length, e.meta.ok] }", true, []any{int64(3), false}},
		{"e => { delete e.nope; return Object.keys(e).length }", true, int64(7)},
		{`e => { try { Object.freeze(e) } catch (x) { return x.name } }`, true, "TypeError"}, // a wrapper cannot be frozen
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			typ := sampleType
			if !tc.typed {
				typ = nil
			}
			if got := jsSees(t, tc.code, sample(), typ, func() any { return sample() }); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestListWrapperAsSeenByJS(t *testing.T) {
	list := func() any { return []any{int64(3), int64(1), int64(2)} }
	tests := []struct {
		code string
		want any
	}{
		{"s => Array.isArray(s) && s.length", int64(3)},
		{"s => [...s]", []any{int64(3), int64(1), int64(2)}},
		{"s => s.map(x => x * 2)", []any{int64(6), int64(2), int64(4)}},
		{"s => s.filter(x => x > 1).join('+')", "3+2"},
		{"s => s.indexOf(2) + s.includes(1) + s.reduce((a, b) => a + b, 0)", int64(9)},
		{"s => JSON.stringify(s)", "[3,1,2]"},
		{"s => { const [a, b] = s; let t = 0; for (const x of s) t += x; return [a, b, t] }", []any{int64(3), int64(1), int64(6)}},
		{"s => Array.from(s).concat(s, [9]).length", int64(7)},
		{"s => s.slice(1)", []any{int64(1), int64(2)}},
		{"s => [s[3], s[-1], Object.keys(s).join()]", []any{nil, nil, "0,1,2"}},
		{"s => { s.push(4); s[0] = 0; return s }", []any{int64(0), int64(1), int64(2), int64(4)}},
		{"s => { s.sort(); s.reverse(); return s }", []any{int64(3), int64(2), int64(1)}},
		{"s => { s.length = 1; return s }", []any{int64(3)}},
		{"s => { s[4] = 1; return s }", []any{int64(3), int64(1), int64(2), nil, int64(1)}},
		{"s => { s.pop(); s.shift(); return s }", []any{int64(1)}},
		{"s => { s.splice(1, 1, 'x', 'y'); return s }", []any{int64(3), "x", "y", int64(2)}},
		{"s => { delete s[0]; return s }", []any{nil, int64(1), int64(2)}},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			if got := jsSees(t, tc.code, list(), nil, list); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestConsoleLogOfAWrapper(t *testing.T) {
	p, err := Compile(nil, nil, []Source{fn("(e, s) => console.log(e, s)")})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	r, err := p.NewRuntime(func(msg string) { lines = append(lines, msg) })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Func(0, 0).Call(r.ToJSTyped(sample(), sampleType), r.ToJS([]any{true, int64(3)})); err != nil {
		t.Fatal(err)
	}
	want := `{"time":7,"room":"kitchen","raw":"aGk=","tags":["a","b"],"pos":[1.5,-2],"meta":{"ok":true},"gone":null} [true,3]`
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("logged %q, want [%q]", lines, want)
	}
}

// sameContainer reports whether two Go values are the same map or the same slice.
func sameContainer(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	return va.Kind() == vb.Kind() && (va.Kind() == reflect.Map || va.Kind() == reflect.Slice) &&
		va.UnsafePointer() == vb.UnsafePointer()
}

func TestFromJSUnwrapsWrappers(t *testing.T) {
	noBytes := func() any {
		return map[string]any{"room": "k", "tags": []any{"a"}, "meta": map[string]any{"ok": true}}
	}
	tests := []struct {
		code string
		want any // nil: the Go value itself, the same map
	}{
		{"e => e", nil},
		{"e => { e.tags.length; e.meta.ok; return e }", nil}, // reading is not writing
		{"e => ({inner: e, n: 1})", map[string]any{"inner": noBytes(), "n": int64(1)}},
		{"e => [e.tags, e.meta]", []any{[]any{"a"}, map[string]any{"ok": true}}},
		{"e => { e.room = 'x'; return e }", map[string]any{"room": "x", "tags": []any{"a"}, "meta": map[string]any{"ok": true}}},
		{"e => { e.tags.push('b'); return e }", map[string]any{"room": "k", "tags": []any{"a", "b"}, "meta": map[string]any{"ok": true}}},
		{"e => { e.meta.ok = 1; return e }", map[string]any{"room": "k", "tags": []any{"a"}, "meta": map[string]any{"ok": int64(1)}}},
		{"e => { const m = e.meta; delete e.meta; m.ok = 2; return [e, m] }",
			[]any{map[string]any{"room": "k", "tags": []any{"a"}}, map[string]any{"ok": int64(2)}}},
		{"e => { const a = [e]; a.push(a); return a[0] }", nil},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			in := noBytes()
			r := newRuntime(t, nil, nil, fn(tc.code))
			res, err := r.Func(0, 0).Call(r.ToJS(in))
			if err != nil {
				t.Fatal(err)
			}
			got := exported(r.FromJS(res))
			if tc.want == nil {
				if !sameContainer(got, in) {
					t.Errorf("got %#v, want the Go value itself", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			if !reflect.DeepEqual(in, noBytes()) {
				t.Errorf("JS changed the Go value: %#v", in)
			}
		})
	}
}

func TestFromJSOfCyclicValuesEnds(t *testing.T) {
	r := newRuntime(t, nil, nil, fn("e => { const a = {e}; a.self = a; const l = [e]; l.push(l, l); a.l = l; return a }"))
	res, err := r.Func(0, 0).Call(r.ToJS(map[string]any{"n": int64(1)}))
	if err != nil {
		t.Fatal(err)
	}
	got := exported(r.FromJS(res)).(map[string]any)
	if !reflect.DeepEqual(got["e"], map[string]any{"n": int64(1)}) {
		t.Errorf("e = %#v", got["e"])
	}
	if l := got["l"].([]any); !reflect.DeepEqual(l[0], map[string]any{"n": int64(1)}) {
		t.Errorf("l[0] = %#v", l[0])
	}
}
