package script

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// loadTimeout bounds the run of the shared script and of the function expressions when a
// runtime is made: far above any sane initialisation, it turns a script that never ends into
// an error. A variable only for tests.
var loadTimeout = 30 * time.Second

// maxCallDepth bounds JS recursion, so a runaway recursion fails fast with a RangeError
// instead of growing the stack until its timeout.
const maxCallDepth = 10000

// deepFreeze freezes an object and everything in it.
var deepFreeze = goja.MustCompile("deepFreeze", `(function f(o) {
	if (o !== null && typeof o === "object") {
		Object.freeze(o);
		for (const k of Object.keys(o)) f(o[k]);
	}
	return o;
})`, true)

// Runtime is one goja runtime with the program loaded, used by one subtask (not safe for
// concurrent use). console.log writes to the log function given to NewRuntime.
type Runtime struct {
	prog  *Program
	vm    *goja.Runtime
	fns   []goja.Callable // function i of the Compile call
	watch *watch
	depth int   // guarded stretches in progress: only the outermost one is timed
	calls int64 // timed stretches so far: the id of the last one
	last  *Func // the function called last: values being read are its result

	host    goja.Callable // runs pending as a Go function called from JS (see inJS)
	pending func()

	rangeErrorCtor goja.Value // the builtin RangeError, whatever JS does to the global
}

// NewRuntime makes a runtime and evaluates the shared script and every function expression in
// it. logf receives console.log output (nil discards it). A function expression whose value
// is not a function is an error; all of them are reported, in an ErrorList. Loading runs
// under loadTimeout, so a script that never ends is an error too.
func (p *Program) NewRuntime(logf func(msg string)) (*Runtime, error) {
	vm := goja.New()
	vm.SetParserOptions(parser.WithDisableSourceMaps) // eval must not read source maps from disk
	vm.SetMaxCallStackSize(maxCallDepth)
	r := &Runtime{prog: p, vm: vm, fns: make([]goja.Callable, len(p.fns)), watch: startWatch(vm)}
	runtime.AddCleanup(r, stopWatch, r.watch)
	r.host = r.newHost()
	r.rangeErrorCtor = vm.Get("RangeError")
	if err := r.setGlobals(logf); err != nil {
		r.Close()
		return nil, err
	}
	src, _ := r.lastCall()
	if err := r.guarded(src, loadTimeout, r.load); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// load runs the shared script, then evaluates every function expression.
func (r *Runtime) load() error {
	if pc := r.prog.script; pc != nil {
		if _, err := r.vm.RunProgram(pc.prg); err != nil {
			return r.jsError(&pc.src, err, loadTimeout)
		}
	}
	var errs ErrorList
	for i, pc := range r.prog.fns {
		v, err := r.vm.RunProgram(pc.prg)
		if err != nil {
			return r.jsError(&pc.src, err, loadTimeout)
		}
		fn, ok := goja.AssertFunction(v)
		if !ok {
			errs = append(errs, notAFunction(&pc.src, typeName(v)))
			continue
		}
		r.fns[i] = fn
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Close releases the runtime's watch at once (it is released anyway when the runtime is
// garbage). The runtime must not be used afterwards.
func (r *Runtime) Close() {
	stopWatch(r.watch)
}

// setGlobals defines `params` (frozen, read-only) and `console`.
func (r *Runtime) setGlobals(logf func(msg string)) error {
	params := r.plainToJS(r.prog.params)
	if r.prog.params == nil {
		params = r.vm.NewObject()
	}
	freeze, err := r.vm.RunProgram(deepFreeze)
	if err != nil {
		return fmt.Errorf("freeze params: %w", err)
	}
	fn, _ := goja.AssertFunction(freeze)
	if _, err := fn(goja.Undefined(), params); err != nil {
		return fmt.Errorf("freeze params: %w", err)
	}
	if err := r.vm.GlobalObject().DefineDataProperty("params", params,
		goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return fmt.Errorf("define params: %w", err)
	}
	if err := r.setBounds(); err != nil {
		return err
	}
	stringify, _ := goja.AssertFunction(r.vm.Get("JSON").ToObject(r.vm).Get("stringify"))
	console := r.vm.NewObject()
	if err := console.Set("log", consoleLog(logf, stringify)); err != nil {
		return fmt.Errorf("define console: %w", err)
	}
	return r.vm.Set("console", console)
}

// consoleLog is console.log: its arguments joined by spaces, objects as JSON made by
// stringify (the bounded JSON.stringify). It holds no reference to the Runtime.
func consoleLog(logf func(msg string), stringify goja.Callable) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		if logf == nil {
			return goja.Undefined()
		}
		parts := make([]string, len(call.Arguments))
		for i, arg := range call.Arguments {
			parts[i] = logString(arg, stringify)
		}
		logf(strings.Join(parts, " "))
		return goja.Undefined()
	}
}

// logString is how console.log shows one value: objects as JSON (their string when JSON has
// nothing to say, as for functions and cycles), anything else as its string. An exception of
// stringify (an array too long) goes on into the calling JS.
func logString(v goja.Value, stringify goja.Callable) string {
	if obj, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(obj); !isFn {
			s, err := stringify(goja.Undefined(), obj)
			var ex *goja.Exception
			switch {
			case err == nil && !goja.IsUndefined(s):
				return s.String()
			case errors.As(err, &ex) && ex.Value() != nil && !isCycleError(ex):
				panic(ex.Value())
			case err != nil && !errors.As(err, &ex):
				panic(err) // an interrupt: goes on up
			}
		}
	}
	return v.String()
}

// isCycleError reports whether JSON.stringify threw because of a cycle: console.log then
// shows the value's string.
func isCycleError(ex *goja.Exception) bool {
	return strings.Contains(ex.Error(), "circular") || strings.Contains(ex.Error(), "cyclic")
}

// typeName is what a value is, for messages: JS typeof, but null and array by name.
func typeName(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if obj, ok := v.(*goja.Object); ok {
		if obj.ClassName() == "Array" {
			return "array"
		}
		return "object"
	}
	switch v.Export().(type) {
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	case string:
		return "string"
	}
	return strings.ToLower(v.ExportType().Name())
}

// Func is function i of the Compile call, bound to this runtime, with a call timeout
// (0: none).
func (r *Runtime) Func(i int, timeout time.Duration) *Func {
	return &Func{rt: r, fn: r.fns[i], src: &r.prog.fns[i].src, timeout: timeout, simple: r.prog.fns[i].simple}
}

// VM returns the goja runtime, for host objects (process contexts, emit callbacks).
func (r *Runtime) VM() *goja.Runtime { return r.vm }
