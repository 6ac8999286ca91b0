package script

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/schema"
)

// Hostile functions: whatever a function returns or throws, calling it and reading its result
// ends within its timeout with an *Error or a *schema.ValueError, and never takes the process
// down.
func TestHostileFunctionsFailCleanly(t *testing.T) {
	const loopTimeout = 100 * time.Millisecond // for the cases that loop, 5s for the others
	defer func(n int) { MaxStringLen = n }(MaxStringLen)
	MaxStringLen = 1 << 16
	tests := []struct {
		name, code, typ string
		timeout         bool   // the error is a timeout
		want            string // in the error
	}{
		{"looping getter", `() => ({get i() { while (true) {} }})`, "{i: int}", true, "timed out"},
		{"looping getter, any", `() => ({get i() { while (true) {} }})`, "any", true, "timed out"},
		{"looping getter in a list", `() => [{get i() { while (true) {} }}]`, "list<{i: int}>", true, "timed out"},
		{"looping Proxy get", `() => new Proxy({}, {get() { while (true) {} }})`, "{i: int}", true, "timed out"},
		{"looping Proxy ownKeys", `() => new Proxy({}, {ownKeys() { while (true) {} }})`, "any", true, "timed out"},
		{"throwing getter", `() => ({get i() { throw new TypeError("no i") }})`, "{i: int}", false, "TypeError: no i"},
		{"throwing Proxy", `() => new Proxy({}, {ownKeys() { throw new Error("no keys") }})`, "any", false, "Error: no keys"},
		{"Error whose toString throws", `() => { const e = new Error("x"); e.toString = () => { throw 1 }; throw e }`, "any", false, "its message threw"},
		{"thrown toJSON loops", `() => { throw {toJSON() { while (true) {} }} }`, "any", true, "its message timed out"},
		{"thrown getter loops", `() => { throw {get a() { while (true) {} }} }`, "any", true, "its message timed out"},
		{"repeat 2^31-1", `() => "x".repeat(2**31 - 1)`, "string", false, "RangeError: Invalid string length"},
		{"padStart 2^31", `() => "x".padStart(2**31)`, "string", false, "RangeError: Invalid string length"},
		{"join of 2^32-1", `() => new Array(4294967295).join()`, "string", false, "RangeError: Array too long"},
		{"fill of 2^32-1", `() => new Array(4294967295).fill(0)`, "list<int>", false, "RangeError: Array too long"},
		{"forEach of 2^32-1", `() => new Array(4294967295).forEach(x => x)`, "any", false, "RangeError: Array too long"},
		{"JSON.stringify of 2^32-1", `() => JSON.stringify({a: new Array(4294967295)})`, "any", false, "RangeError: Array too long"},
		{"Array.from length 2^32-1", `() => Array.from({length: 4294967295})`, "any", false, "RangeError: Array too long"},
		{"new Array(2^32-1)", `() => new Array(4294967295)`, "list<int>", false, "an array of 4294967295 elements"},
		{"sparse a[1e8]", `() => { const a = []; a[1e8] = 1; return a }`, "any", false, "an array of 100000001 elements"},
		{"record list grown to 1e9", `() => { const a = []; a[1e9] = 1; return {a} }`, "{a: list<int>}", false, "an array of 1000000001 elements"},
		{"wrapper list grown to 1e9", `e => { e.tags[1e9] = 1; return e }`, "any", false, "RangeError: Array too long"},
		{"deep", `() => { let o = {}; for (let i = 0; i < 5000; i++) o = {o}; return o }`, "any", false, "nested deeper than 1000 levels"},
		{"cycle through a wrapper", `e => { e.self = e; return e }`, "any", false, "a cycle"},
		{"huge string", `() => "x".repeat(1 << 16) + "y"`, "string", false, "a string of 65537 characters (the limit is 65536)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn(tc.code))
			timeout := 5 * time.Second
			if tc.timeout {
				timeout = loopTimeout
			}
			start := time.Now()
			_, err := func() (any, error) {
				res, err := r.Func(0, timeout).Call(r.ToJS(map[string]any{"tags": []any{"a"}}))
				if err != nil {
					return nil, err
				}
				return r.FromJSAs(res, schema.MustParse(tc.typ))
			}()
			if d := time.Since(start); d > 20*timeout {
				t.Errorf("took %v with a timeout of %v", d, timeout)
			}
			var e *Error
			var ve *schema.ValueError
			switch {
			case err == nil:
				t.Fatal("no error")
			case !errors.As(err, &e) && !errors.As(err, &ve):
				t.Fatalf("got %T %v, want an *Error or a *schema.ValueError", err, err)
			case e != nil && e.Timeout != tc.timeout:
				t.Errorf("timeout %v, want %v: %v", e.Timeout, tc.timeout, err)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("got %v, want it to say %q", err, tc.want)
			}
			if e != nil && (e.Name != "op.fn" || e.File != "p.yaml") {
				t.Errorf("got %v, want an error of op.fn in p.yaml", err)
			}
			// The runtime is usable afterwards, with no interrupt left behind.
			if _, err := r.Func(0, timeout).Call(); tc.timeout && err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("next call: %v", err)
			}
		})
	}
}

// A function that keeps allocating is stopped once the live heap outgrows twice the process's
// memory limit, long before its timeout.
func TestMemoryHogIsStopped(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
	r := newRuntime(t, nil, nil, fn(`() => { const a = []; for (let i = 0; ; i++) a.push("x".repeat(100000) + i) }`))
	// Stopped for memory, not by the minute's timeout (e.Timeout): no timing is asserted.
	_, err := r.Func(0, time.Minute).Call()
	var e *Error
	if !errors.As(err, &e) || e.Timeout || !strings.Contains(e.Msg, "grew beyond the memory budget (128 MiB)") {
		t.Fatalf("got %v, want the call stopped for memory", err)
	}
}

func TestConsoleLogOfAHugeArrayThrows(t *testing.T) {
	p, err := Compile(nil, nil, []Source{fn("() => console.log([new Array(4294967295)])")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.NewRuntime(func(string) { t.Error("logged") })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Func(0, 5*time.Second).Call(); err == nil || !strings.Contains(err.Error(), "RangeError: Array too long") {
		t.Errorf("got %v, want a RangeError", err)
	}
}
