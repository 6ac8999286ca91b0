package script

import (
	"fmt"
	"strings"
	"testing"
)

// call runs a function with no arguments and exports its result.
func call(t *testing.T, r *Runtime, i int) any {
	t.Helper()
	v, err := r.Func(i, 0).Call()
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	return exported(r.FromJS(v))
}

func TestParamsAreVisibleAndFrozen(t *testing.T) {
	params := map[string]any{
		"tolerance": 5000,
		"region":    "eu",
		"limits":    map[string]any{"max": int64(3), "names": []any{"a", "b"}},
	}
	tests := []struct {
		code string
		want any
	}{
		{`() => params.tolerance`, int64(5000)},
		{`() => params.region + "-" + params.limits.names.join("+")`, "eu-a+b"},
		{`() => { params.tolerance = 1; return params.tolerance }`, int64(5000)},
		{`() => { params.added = 1; return params.added }`, nil},
		{`() => { params.limits.max = 9; params.limits.names.push("c"); return params.limits.max }`, false},
		{`() => { "use strict"; try { params.region = "us" } catch (e) { return e.name } }`, "TypeError"},
		{`() => { params = null; return typeof params }`, "object"},
		{`() => Object.isFrozen(params) && Object.isFrozen(params.limits) && Object.isFrozen(params.limits.names)`, true},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			r := newRuntime(t, nil, params, fn(tc.code))
			v, err := r.Func(0, 0).Call()
			got := exported(r.FromJS(v))
			if tc.want == false { // pushing to a frozen array throws
				if err == nil || !strings.Contains(err.Error(), "TypeError") {
					t.Errorf("got %v, %v; want a TypeError", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestParamsDefaultToAnEmptyObject(t *testing.T) {
	r := newRuntime(t, nil, nil, fn(`() => JSON.stringify(params)`))
	if got := call(t, r, 0); got != "{}" {
		t.Errorf("params = %v, want {}", got)
	}
}

func TestConsoleLog(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{`"motion", 3`, "motion 3"},
		{`{room: "kitchen", at: [1, 2.5]}`, `{"room":"kitchen","at":[1,2.5]}`},
		{`null, undefined, true, -0.5`, "null undefined true -0.5"},
		{`[]`, "[]"},
		{`function f() {}`, "function f() {}"},
		{`(() => { const o = {}; o.o = o; return o })()`, "[object Object]"},
		{`{toJSON() { return "j" }}`, `"j"`},
		{``, ""},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			p, err := Compile(nil, nil, []Source{fn("() => console.log(" + tc.args + ")")})
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			r, err := p.NewRuntime(func(msg string) { lines = append(lines, msg) })
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.Func(0, 0).Call(); err != nil {
				t.Fatal(err)
			}
			if len(lines) != 1 || lines[0] != tc.want {
				t.Errorf("logged %q, want [%q]", lines, tc.want)
			}
		})
	}
}

func TestConsoleLogWithoutLogFunction(t *testing.T) {
	r := newRuntime(t, nil, nil, fn(`() => { console.log("dropped"); return 1 }`))
	if got := call(t, r, 0); got != int64(1) {
		t.Errorf("got %v, want 1", got)
	}
}

func TestNoHostAccess(t *testing.T) {
	globals := []string{
		"require", "process", "module", "exports", "fs", "global", "globalThis.fetch",
		"setTimeout", "setInterval", "setImmediate", "clearTimeout", "queueMicrotask",
		"XMLHttpRequest", "WebSocket", "Deno", "Bun",
	}
	for _, name := range globals {
		t.Run(name, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn(fmt.Sprintf(`() => typeof %s`, name)))
			if got := call(t, r, 0); got != "undefined" {
				t.Errorf("typeof %s = %v, want undefined", name, got)
			}
		})
	}
}

func TestScriptRunsOncePerRuntime(t *testing.T) {
	shared := &Source{Name: "script", File: "p.yaml", Line: 2, Col: 3, Code: `let calls = 0
console.log("loaded")
function next() { return ++calls }
`}
	p, err := Compile(shared, nil, []Source{fn("next"), fn("() => next() * 10")})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // each runtime has its own globals
		var logged []string
		r, err := p.NewRuntime(func(msg string) { logged = append(logged, msg) })
		if err != nil {
			t.Fatal(err)
		}
		if a, b := call(t, r, 0), call(t, r, 1); a != int64(1) || b != int64(20) {
			t.Errorf("calls = %v, %v; want 1, 20", a, b)
		}
		if len(logged) != 1 {
			t.Errorf("script logged %q, want it once", logged)
		}
		r.Close()
	}
}
