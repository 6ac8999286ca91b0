package script

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// Func is a compiled JavaScript function bound to one runtime.
type Func struct {
	rt      *Runtime
	fn      goja.Callable
	src     *Source
	timeout time.Duration // 0: none
	simple  *Simple       // nil: not a simple function
}

// Call calls the function with JS arguments and returns its result. An exception or a timeout
// is an *Error positioned in the pipeline file. A call made from inside another call of the
// same runtime (through a host callback) runs under the outer call's timeout. Reading the
// result (FromJS, FromJSAs) is guarded as a part of the call: it runs under the function's
// timeout too, and fails with the function's position.
func (f *Func) Call(args ...goja.Value) (v goja.Value, err error) {
	f.rt.last = f
	err = f.rt.guarded(f.src, f.timeout, func() error {
		var err error
		v, err = f.fn(goja.Undefined(), args...)
		return err
	})
	return v, err
}

// jsError converts an error of goja while running src into an *Error at the position of the
// innermost JS frame in the pipeline file (src's own position when there is none). It must run
// guarded: the message of a thrown value is JS of the user's.
func (r *Runtime) jsError(src *Source, err error, timeout time.Duration) *Error {
	e := errorAt(src, src.Line, src.Col, "")
	var (
		interrupt *goja.InterruptedError
		overflow  *goja.StackOverflowError
		exception *goja.Exception
		stack     []goja.StackFrame
	)
	switch {
	case errors.As(err, &interrupt):
		stack = interrupt.Stack()
		switch sig := interrupt.Value().(type) {
		case timeoutSignal:
			e.Timeout = true
			e.Msg = fmt.Sprintf("timed out after %v", timeout)
		case memorySignal:
			e.Msg = fmt.Sprintf("stopped: the live heap (%d MiB) grew beyond the memory budget (%d MiB) while it ran",
				sig.live>>20, sig.limit>>20)
		default:
			e.Msg = fmt.Sprintf("interrupted: %v", interrupt.Value())
		}
	case errors.As(err, &overflow):
		stack = overflow.Stack()
		e.Msg = "RangeError: Maximum call stack size exceeded"
	case errors.As(err, &exception):
		stack = exception.Stack()
		e.Msg, e.Timeout = r.thrownMessage(exception.Value(), timeout)
	default:
		e.Msg = err.Error()
	}
	e.Msg = truncate(e.Msg, maxMessage)
	for _, frame := range stack { // the innermost frame in the pipeline's code, not in ours
		if pos := frame.Position(); pos.Line > 0 && r.prog.inFile(pos.Filename) {
			e.File, e.Line, e.Col = r.prog.filePos(pos.Filename, pos.Line, pos.Column)
			break
		}
	}
	return e
}

// maxMessage is the length at which the message of a thrown value is cut.
const maxMessage = 1000

// truncate cuts s to at most n bytes (at a character boundary), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// thrownMessage is how a thrown value reads: an Error as `TypeError: message`, another object
// as JSON, anything else as its string. Making it runs JS (toString, toJSON, getters), which
// may throw or never end: the thrown value then reads as what it is, and timedOut says the
// message ran out of time.
func (r *Runtime) thrownMessage(v goja.Value, timeout time.Duration) (msg string, timedOut bool) {
	if v == nil {
		return "undefined", false
	}
	err := r.inJS(func() {
		obj, ok := v.(*goja.Object)
		if !ok || obj.ClassName() == "Error" {
			msg = v.String()
			return
		}
		if _, isFn := goja.AssertFunction(obj); isFn {
			msg = "a function"
			return
		}
		b, err := obj.MarshalJSON()
		if err != nil {
			msg = v.String()
			return
		}
		msg = string(b)
	})
	var interrupt *goja.InterruptedError
	switch {
	case err == nil:
		return msg, false
	case errors.As(err, &interrupt):
		return fmt.Sprintf("uncaught %s (its message timed out after %v)", typeName(v), timeout), true
	}
	return fmt.Sprintf("uncaught %s (its message threw)", typeName(v)), false
}

// filePos maps a position of goja (file, padded line and column) to the pipeline file, through
// the piece that covers the line; positions outside every piece (eval'd code) stay as they are.
func (p *Program) filePos(file string, line, col int) (string, int, int) {
	for _, pc := range p.pieces() {
		if pc.src.File == file && pc.covers(line) {
			line, col = pc.filePos(line, col)
			return file, line, col
		}
	}
	return file, line, col
}

// inFile reports whether goja's file name is the pipeline file's (or eval'd code's, which
// keeps the name given to it), not the name of pipectl's own JS such as "bounds".
func (p *Program) inFile(file string) bool {
	return file != boundsFile
}

// pieces lists the script and every function.
func (p *Program) pieces() []*piece {
	if p.script == nil {
		return p.fns
	}
	return append([]*piece{p.script}, p.fns...)
}
