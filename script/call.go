package script

import (
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// Func is a compiled JavaScript function bound to one runtime.
type Func struct {
	rt      *Runtime
	fn      goja.Callable
	src     *Source
	timeout time.Duration // 0: none
}

// Call calls the function with JS arguments and returns its result. An exception or a timeout
// is an *Error positioned in the pipeline file. A call made from inside another call of the
// same runtime (through a host callback) runs under the outer call's timeout.
func (f *Func) Call(args ...goja.Value) (goja.Value, error) {
	r := f.rt
	if f.timeout > 0 && r.depth == 0 {
		r.calls++
		r.watch.arm(r.calls, f.timeout)
		defer r.watch.disarm(r.calls, r.vm) // deferred: a panicking host callback must disarm too
	}
	r.depth++
	defer func() { r.depth-- }()
	v, err := f.fn(goja.Undefined(), args...)
	if err != nil {
		return nil, r.jsError(f.src, err, f.timeout)
	}
	return v, nil
}

// jsError converts an error of goja while running src into an *Error at the position of the
// innermost JS frame in the pipeline file (src's own position when there is none).
func (r *Runtime) jsError(src *Source, err error, timeout time.Duration) *Error {
	e := errorAt(src, src.Line, src.Col, err.Error())
	var (
		interrupt *goja.InterruptedError
		overflow  *goja.StackOverflowError
		exception *goja.Exception
		stack     []goja.StackFrame
	)
	switch {
	case errors.As(err, &interrupt):
		stack = interrupt.Stack()
		if _, ok := interrupt.Value().(timeoutSignal); ok {
			e.Timeout = true
			e.Msg = fmt.Sprintf("timed out after %v", timeout)
		} else {
			e.Msg = fmt.Sprintf("interrupted: %v", interrupt.Value())
		}
	case errors.As(err, &overflow):
		stack = overflow.Stack()
		e.Msg = "RangeError: Maximum call stack size exceeded"
	case errors.As(err, &exception):
		stack = exception.Stack()
		e.Msg = r.thrownMessage(exception.Value())
	}
	for _, frame := range stack {
		if pos := frame.Position(); pos.Line > 0 {
			e.File, e.Line, e.Col = r.prog.filePos(pos.Filename, pos.Line, pos.Column)
			break
		}
	}
	return e
}

// thrownMessage is how a thrown value reads: an Error as `TypeError: message`, another object
// as JSON, anything else as its string.
func (r *Runtime) thrownMessage(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	msg := ""
	if ex := r.vm.Try(func() {
		obj, ok := v.(*goja.Object)
		if !ok || obj.ClassName() == "Error" {
			msg = v.String()
			return
		}
		b, err := obj.MarshalJSON()
		if err != nil {
			msg = v.String()
			return
		}
		msg = string(b)
	}); ex != nil {
		return "uncaught exception (its message threw: " + ex.Error() + ")"
	}
	return msg
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

// pieces lists the script and every function.
func (p *Program) pieces() []*piece {
	if p.script == nil {
		return p.fns
	}
	return append([]*piece{p.script}, p.fns...)
}
