package script

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"
)

const throwYAML = `name: throws
script: |
  function helper(e) {
    // a comment line
    return e.missing.x
  }
  function fail(msg) { throw new RangeError(msg) }
operators:
  - uid: a
    fn: |
      e => {
        const y = 1
        return helper(e) + y
      }
  - uid: b
    fn: |
      e => {
        if (e.n > 0) {
          e.none.boom
        }
      }
  - uid: c
    fn: e => { throw "plain " + e.n }
  - uid: d
    fn: e => { throw {code: e.n, why: "custom"} }
  - uid: e
    fn: e => fail("too big: " + e.n)
  - uid: f
    fn: |
      function deep(e) { return deep(e) + 1 }
`

func TestExceptionsArePositionedInTheFile(t *testing.T) {
	script := block(t, throwYAML, "script", "script: |")
	fns := []Source{
		block(t, throwYAML, "a.fn", "uid: a\n    fn: |"),
		block(t, throwYAML, "b.fn", "uid: b\n    fn: |"),
		plain(t, throwYAML, "c.fn", "uid: c\n    fn: "),
		plain(t, throwYAML, "d.fn", "uid: d\n    fn: "),
		plain(t, throwYAML, "e.fn", "uid: e\n    fn: "),
		block(t, throwYAML, "f.fn", "uid: f\n    fn: |"),
	}
	r := newRuntime(t, &script, nil, fns...)
	tests := []struct {
		fn   int
		want string
	}{
		{0, "p.yaml:5:22: a.fn: TypeError: Cannot read property 'x' of undefined"},
		{1, "p.yaml:19:18: b.fn: TypeError: Cannot read property 'boom' of undefined"},
		{2, "p.yaml:23:22: c.fn: plain 1"},
		{3, `p.yaml:25:16: d.fn: {"code":1,"why":"custom"}`},
		{4, "p.yaml:7:30: e.fn: RangeError: too big: 1"},
		{5, "p.yaml:30:37: f.fn: RangeError: Maximum call stack size exceeded"},
	}
	for _, tc := range tests {
		t.Run(fns[tc.fn].Name, func(t *testing.T) {
			_, err := r.Func(tc.fn, 10*time.Second).Call(r.ToJS(map[string]any{"n": int64(1)})) // deep recursion is slow under -race
			var e *Error
			if !errors.As(err, &e) || e.Timeout {
				t.Fatalf("got %v, want an *Error that is no timeout", err)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestScriptExceptionFailsNewRuntime(t *testing.T) {
	script := Source{Name: "script", File: "p.yaml", Line: 3, Col: 3, Code: "const a = 1\nundefinedThing()\n"}
	p, err := Compile(&script, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.NewRuntime(nil)
	if want := "p.yaml:4:17: script: ReferenceError: undefinedThing is not defined"; errString(err) != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestTimeoutInterruptsAndTheRuntimeGoesOn(t *testing.T) {
	tests := []struct {
		name string
		code string
	}{
		{"busy loop", "() => { while(true){} }"},
		{"loop in a callback", "() => [1].forEach(() => { for (;;) {} })"},
		{"recursion in a loop", "() => { const f = n => n > 0 ? f(n - 1) : 0; for (;;) f(100) }"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, nil, nil, fn(tc.code), fn("x => x + 1"))
			const timeout = 50 * time.Millisecond
			for range 2 { // the same function times out again, with the same runtime
				start := time.Now()
				_, err := r.Func(0, timeout).Call()
				elapsed := time.Since(start)
				var e *Error
				if !errors.As(err, &e) || !e.Timeout {
					t.Fatalf("got %v, want a timeout", err)
				}
				// positioned where it was interrupted, on the function's line
				if e.Name != "op.fn" || e.Line != 1 || e.Msg != "timed out after 50ms" {
					t.Errorf("got %s, want op.fn on line 1 timed out after 50ms", err)
				}
				if elapsed < timeout || elapsed > 2*time.Second {
					t.Errorf("interrupted after %v, want %v to 2s", elapsed, timeout)
				}
				v, err := r.Func(1, timeout).Call(r.ToJS(int64(41)))
				if err != nil || exported(r.FromJS(v)) != int64(42) {
					t.Fatalf("after a timeout: got %v, %v; want 42", v, err)
				}
			}
		})
	}
}

func TestShortCallsAreNeverInterrupted(t *testing.T) {
	r := newRuntime(t, nil, nil, fn("x => { let s = 0; for (let i = 0; i < 1000; i++) s += i; return s + x }"))
	f := r.Func(0, 100*time.Millisecond)               // far above a call's cost, even on a loaded machine
	deadline := time.Now().Add(500 * time.Millisecond) // many watchdog ticks
	for n := 0; time.Now().Before(deadline); n++ {
		if _, err := f.Call(r.ToJS(int64(n))); err != nil {
			t.Fatalf("call %d: %v", n, err)
		}
	}
}

func TestRuntimesOfOneProgramRunConcurrently(t *testing.T) {
	p, err := Compile(nil, map[string]any{"k": int64(2)}, []Source{fn("x => x * params.k"), fn("() => { for (;;) {} }")})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			r, err := p.NewRuntime(nil)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			if i%2 == 0 { // one runtime timing out does not disturb the others
				if _, err := r.Func(1, 20*time.Millisecond).Call(); err == nil {
					errs <- errors.New("endless loop returned")
				}
			}
			for n := range int64(1000) {
				v, err := r.Func(0, time.Second).Call(r.ToJS(n))
				if err != nil || exported(r.FromJS(v)) != 2*n {
					errs <- errors.Join(err, errors.New("wrong product"))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPanickingHostCallbackIsAnErrorAndLeavesNoTimeoutBehind(t *testing.T) {
	r := newRuntime(t, nil, nil, fn("cb => cb()"), fn("() => 1"))
	boom := r.VM().ToValue(func(goja.FunctionCall) goja.Value { panic("host bug") })
	_, err := r.Func(0, 50*time.Millisecond).Call(boom)
	var e *Error
	if !errors.As(err, &e) || e.Msg != "internal error: host bug" || e.Name != "op.fn" {
		t.Fatalf("got %v, want the host panic as an *Error of op.fn", err)
	}
	// Six of the first call's timeouts: the watchdog has looked many times. A leftover
	// interrupt would stop the next call at once; the later calls' own timeout is long, so
	// that a loaded machine's pauses do not count.
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := r.Func(1, 5*time.Second).Call(); err != nil {
			t.Fatalf("after a host panic: %v", err)
		}
	}
}

func TestEndlessScriptFailsNewRuntime(t *testing.T) {
	defer func(d time.Duration) { loadTimeout = d }(loadTimeout)
	loadTimeout = 300 * time.Millisecond
	script := Source{Name: "script", File: "p.yaml", Line: 3, Col: 3, Code: "let n = 0\nwhile (true) n++\n"}
	p, err := Compile(&script, nil, []Source{fn("() => n")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.NewRuntime(nil)
	var e *Error
	// The interrupt lands in the loop (line 4), or, on a loaded machine, may catch the script
	// before it got there (line 3): either way a line of the script.
	if !errors.As(err, &e) || !e.Timeout || e.Name != "script" || e.Line < 3 || e.Line > 4 {
		t.Fatalf("got %v, want the script timed out on one of its lines (3–4)", err)
	}
}
