package script

import (
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// Every entry into user JavaScript is guarded: a function's call, and also the Go code that
// reads what it returned or threw, since reading a value can run JS too (a getter, a Proxy
// trap, toString or toJSON). A guarded stretch runs under the watchdog, so a getter that never
// returns is a timeout like a function that never returns; and nothing that happens in it can
// take the process down: a JS exception or an interrupt becomes an *Error, and a Go panic
// (a bug, or a limit hit deep inside goja) becomes an *Error too, with the function's
// position.

// guarded runs run, which calls into src's JS or reads values it made, under timeout (when no
// guarded stretch is running yet) and turns everything that fails into an *Error of src.
// Errors run returns that are not goja's (a conversion's *schema.ValueError) pass through.
func (r *Runtime) guarded(src *Source, timeout time.Duration, run func() error) (err error) {
	if r.depth == 0 && timeout > 0 {
		r.calls++
		id := r.calls
		r.watch.arm(id, timeout)
		defer r.watch.disarm(id, r.vm) // deferred: a panic must disarm too
	}
	r.depth++
	defer func() { r.depth-- }()
	defer func() {
		if x := recover(); x != nil {
			err = errorAt(src, src.Line, src.Col, fmt.Sprintf("internal error: %v", x))
		}
	}()
	err = run()
	if err != nil && isJSError(err) {
		return r.jsError(src, err, timeout)
	}
	return err
}

// isJSError reports whether err is one of goja's: an exception, an interrupt, a stack
// overflow.
func isJSError(err error) bool {
	var (
		interrupt *goja.InterruptedError
		overflow  *goja.StackOverflowError
		exception *goja.Exception
	)
	return errors.As(err, &interrupt) || errors.As(err, &overflow) || errors.As(err, &exception)
}

// inJS runs f, Go code that may run JS, the way goja runs a Go function called from JS: a JS
// exception, an interrupt or a stack overflow inside f comes back as goja's error, with the
// runtime's stacks unwound, instead of as a panic.
func (r *Runtime) inJS(f func()) error {
	r.pending = f
	_, err := r.host(goja.Undefined())
	return err
}

// newHost makes the function inJS runs its Go code through.
func (r *Runtime) newHost() goja.Callable {
	host, _ := goja.AssertFunction(r.vm.ToValue(func(goja.FunctionCall) goja.Value {
		f := r.pending
		r.pending = nil
		f()
		return goja.Undefined()
	}))
	return host
}

// reading runs f, which reads v, guarded as a part of the last function called: its
// result is being converted. Inside a call (a host callback such as ctx.emit) f just runs: a
// JS exception in it goes on into the calling JS, like any exception of a callback.
func (r *Runtime) reading(v goja.Value, f func() error) error {
	if r.depth > 0 || inert(v) {
		return f()
	}
	src, timeout := r.lastCall()
	var ferr error
	err := r.guarded(src, timeout, func() error {
		return r.inJS(func() { ferr = f() })
	})
	if err != nil {
		return err
	}
	return ferr
}

// lastCall is the source and timeout of the last function called, which values being read
// come from (the shared script, under loadTimeout, before any call).
func (r *Runtime) lastCall() (*Source, time.Duration) {
	if r.last != nil {
		return r.last.src, r.last.timeout
	}
	if r.prog.script != nil {
		return &r.prog.script.src, loadTimeout
	}
	return &Source{Name: "script"}, loadTimeout
}

// inert reports whether reading v cannot run JS: a primitive, or a wrapper JS did not touch.
func inert(v goja.Value) bool {
	obj, ok := v.(*goja.Object)
	if !ok {
		return true
	}
	switch obj.ExportType() {
	case jsRecordType:
		return !obj.Export().(*jsRecord).dirty
	case jsListType:
		return !obj.Export().(*jsList).dirty
	}
	return false
}
