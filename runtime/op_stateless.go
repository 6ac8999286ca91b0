package runtime

import (
	"fmt"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// callConvert calls fn and converts its result to t: the result check of docs/pipelines.md, Types.
func (in *instance) callConvert(fn *script.Func, t *schema.Type, what string, args ...goja.Value) (any, error) {
	res, err := fn.Call(args...)
	if err != nil {
		return nil, in.userErr(err)
	}
	v, err := in.rt.FromJSAs(res, t)
	if err != nil {
		return nil, in.userErr(fmt.Errorf("%s: %w", what, err))
	}
	return v, nil
}

// simpleConvert evaluates a simple function (script.Simple) on Go arguments and converts its
// result to t, as callConvert would through JS; ok false when fn is not simple or the
// evaluator cannot decide these arguments: call fn through JS then.
func simpleConvert(fn *script.Func, t *schema.Type, a0, a1 any) (any, bool) {
	s := fn.Simple()
	if s == nil {
		return nil, false
	}
	res, ok := s.Eval(a0, a1)
	if !ok {
		return nil, false
	}
	return res.As(t)
}

// inputJS is a record of the node's (first) input as a JS value, fields in declared order.
func (in *instance) inputJS(e *element) goja.Value {
	return in.rt.ToJSTyped(e.value, in.node.InTypes[0])
}

// passOp forwards records unchanged: sources' own instance and union.
type passOp struct{}

func (passOp) process(in *instance, _ int, e *element) error { return in.emit(e.value, e.ts) }
func (passOp) finish(*instance) error                        { return nil }

// mapOp is `map`: one output per record.
type mapOp struct {
	fn  *script.Func
	out *schema.Type
}

func (o *mapOp) process(in *instance, _ int, e *element) error {
	if v, ok := simpleConvert(o.fn, o.out, e.value, script.Undefined); ok {
		return in.emit(v, e.ts)
	}
	v, err := in.callConvert(o.fn, o.out, "result", in.inputJS(e))
	if err != nil {
		return err
	}
	return in.emit(v, e.ts)
}

func (o *mapOp) finish(*instance) error { return nil }

// filterOp is `filter`: keeps the records for which fn is truthy.
type filterOp struct{ fn *script.Func }

func (o *filterOp) process(in *instance, _ int, e *element) error {
	if s := o.fn.Simple(); s != nil {
		if res, ok := s.Eval(e.value, script.Undefined); ok {
			if keep, ok := res.Truthy(); ok {
				if !keep {
					return nil
				}
				return in.emit(e.value, e.ts)
			}
		}
	}
	res, err := o.fn.Call(in.inputJS(e))
	if err != nil {
		return in.userErr(err)
	}
	if !res.ToBoolean() {
		return nil
	}
	return in.emit(e.value, e.ts)
}

func (o *filterOp) finish(*instance) error { return nil }

// flatMapOp is `flat_map`: any number of outputs per record.
type flatMapOp struct {
	fn   *script.Func
	list *schema.Type // a list of the output type
}

func (o *flatMapOp) process(in *instance, _ int, e *element) error {
	if s := o.fn.Simple(); s != nil {
		if res, ok := s.Eval(e.value, script.Undefined); ok {
			if done, err := in.emitSimple(res, o.list, e.ts); done {
				return err
			}
		}
	}
	res, err := o.fn.Call(in.inputJS(e))
	if err != nil {
		return in.userErr(err)
	}
	return in.emitList(res, o.list, e.ts)
}

func (o *flatMapOp) finish(*instance) error { return nil }

// emitAll converts a JS array result to a list of t (null or undefined: nothing) and emits
// every element.
func (in *instance) emitAll(res goja.Value, t *schema.Type, ts int64) error {
	return in.emitList(res, schema.ListOf(t), ts)
}

// emitList is emitAll with the list type made once.
func (in *instance) emitList(res goja.Value, list *schema.Type, ts int64) error {
	if res == nil || goja.IsUndefined(res) || goja.IsNull(res) {
		return nil
	}
	v, err := in.rt.FromJSAs(res, list)
	if err != nil {
		return in.userErr(fmt.Errorf("outputs: %w", err))
	}
	return in.emitEach(v.([]any), ts)
}

// emitSimple is emitList for the result of a simple function; done false when the function
// must be called through JS instead (nothing was emitted then).
func (in *instance) emitSimple(res script.SimpleResult, list *schema.Type, ts int64) (done bool, err error) {
	if res.IsNullish() {
		return true, nil
	}
	v, ok := res.AsList(list)
	if !ok {
		return false, nil
	}
	return true, in.emitEach(v, ts)
}

// emitEach emits every element of a list.
func (in *instance) emitEach(list []any, ts int64) error {
	for _, x := range list {
		if err := in.emit(x, ts); err != nil {
			return err
		}
	}
	return nil
}

// sinkOp writes records to a sink.
type sinkOp struct{ sink connectors.Sink }

func (o *sinkOp) process(in *instance, _ int, e *element) error {
	if err := o.sink.Write(e.value); err != nil {
		return named(pipeline.RoleSink, in.node.UID, err)
	}
	return nil
}

func (o *sinkOp) finish(in *instance) error {
	if err := o.sink.Flush(); err != nil {
		return named(pipeline.RoleSink, in.node.UID, err)
	}
	return nil
}
