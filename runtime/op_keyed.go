package runtime

import (
	"fmt"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// flatMapWithStateOp is Flink's Scala flatMapWithState: fn(e, state) returns
// [outputs, newState]; a null or undefined newState deletes the key's state.
type flatMapWithStateOp struct {
	fn       *script.Func
	list     *schema.Type // a list of the output type
	state    *keyedState
	stateOpt *schema.Type // the state type, optional: null deletes
}

func (o *flatMapWithStateOp) process(in *instance, _ int, e *element) error {
	cur, ok, err := o.state.get(e)
	if err != nil {
		return err
	}
	if s := o.fn.Simple(); s != nil {
		arg := script.Undefined
		if ok {
			arg = cur
		}
		if done, err := o.simple(in, s, e, arg); done {
			return err
		}
	}
	st := goja.Undefined()
	if ok {
		st = in.rt.ToJSTyped(cur, o.state.desc.Type)
	}
	res, err := o.fn.Call(in.inputJS(e), st)
	if err != nil {
		return in.userErr(err)
	}
	pair, ok, err := in.rt.Elems(res, 2)
	if err != nil {
		return in.userErr(err)
	}
	if !ok {
		return in.userErr(fmt.Errorf("expected [outputs, newState], got %s", script.Describe(res)))
	}
	if pair[1] != st || !script.Unchanged(st) { // else: the state passed in, unchanged
		ns, err := in.rt.FromJSAs(pair[1], o.stateOpt)
		if err != nil {
			return in.userErr(fmt.Errorf("new state: %w", err))
		}
		if err := o.update(e, ns); err != nil {
			return err
		}
	}
	return in.emitList(pair[0], o.list, e.ts)
}

// simple runs a simple function in Go; done false when it must be called through JS (the
// state is then unchanged and nothing was emitted).
func (o *flatMapWithStateOp) simple(in *instance, s *script.Simple, e *element, cur any) (done bool, err error) {
	res, ok := s.Eval(e.value, cur)
	if !ok {
		return false, nil
	}
	outs, next, ok := res.Pair()
	if !ok {
		return false, nil
	}
	ns, ok := next.As(o.stateOpt)
	if !ok {
		return false, nil
	}
	var list []any
	if !outs.IsNullish() {
		if list, ok = outs.AsList(o.list); !ok {
			return false, nil
		}
	}
	if !next.IsArg(1) || cur == script.Undefined { // else: the state passed in, unchanged
		if err := o.update(e, ns); err != nil {
			return true, err
		}
	}
	return true, in.emitEach(list, e.ts)
}

// update stores a key's new state; nil deletes it.
func (o *flatMapWithStateOp) update(e *element, ns any) error {
	if ns == nil {
		return o.state.del(e)
	}
	return o.state.put(e, ns)
}

func (o *flatMapWithStateOp) finish(*instance) error { return nil }

// reduceOp is a rolling reduce: the first record of a key is emitted as it is, every later
// one emits fn(acc, e).
type reduceOp struct {
	fn    *script.Func
	typ   *schema.Type
	state *keyedState
}

func (o *reduceOp) process(in *instance, _ int, e *element) error {
	cur, ok, err := o.state.get(e)
	if err != nil {
		return err
	}
	v := e.value
	if ok {
		var simple bool
		if v, simple = simpleConvert(o.fn, o.typ, cur, e.value); !simple {
			if v, err = in.callConvert(o.fn, o.typ, "result", in.rt.ToJSTyped(cur, o.typ), in.inputJS(e)); err != nil {
				return err
			}
		}
	}
	if err := o.state.put(e, v); err != nil {
		return err
	}
	return in.emit(v, e.ts)
}

func (o *reduceOp) finish(*instance) error { return nil }

// aggregateOp is a rolling fold: acc = fn(acc ?? init(), e); emits result(acc) (or acc).
type aggregateOp struct {
	init, fn, result *script.Func
	acc, out         *schema.Type
	state            *keyedState
}

func (o *aggregateOp) process(in *instance, _ int, e *element) error {
	cur, ok, err := o.state.get(e)
	if err != nil {
		return err
	}
	if !ok {
		if cur, err = in.callConvert(o.init, o.acc, "init result"); err != nil {
			return err
		}
	}
	acc, simple := simpleConvert(o.fn, o.acc, cur, e.value)
	if !simple {
		if acc, err = in.callConvert(o.fn, o.acc, "accumulator", in.rt.ToJSTyped(cur, o.acc), in.inputJS(e)); err != nil {
			return err
		}
	}
	if err := o.state.put(e, acc); err != nil {
		return err
	}
	out := acc
	if o.result != nil {
		if out, simple = simpleConvert(o.result, o.out, acc, script.Undefined); !simple {
			if out, err = in.callConvert(o.result, o.out, "result", in.rt.ToJSTyped(acc, o.acc)); err != nil {
				return err
			}
		}
	}
	return in.emit(out, e.ts)
}

func (o *aggregateOp) finish(*instance) error { return nil }

// aggKind is a built-in aggregation.
type aggKind uint8

const (
	aggSum aggKind = iota
	aggMin
	aggMax
	aggMinBy
	aggMaxBy
)

var aggKinds = map[pipeline.OpKind]aggKind{pipeline.OpSum: aggSum, pipeline.OpMin: aggMin, pipeline.OpMax: aggMax, pipeline.OpMinBy: aggMinBy, pipeline.OpMaxBy: aggMaxBy}

// builtinAggOp is sum/min/max/min_by/max_by with Flink's semantics: sum, min and max keep the
// first record of the key and update only the field; min_by and max_by keep the whole record
// holding the extreme value (the first one on ties).
type builtinAggOp struct {
	kind  aggKind
	field []pathStep
	state *keyedState
}

func (o *builtinAggOp) process(in *instance, _ int, e *element) error {
	cur, ok, err := o.state.get(e)
	if err != nil {
		return err
	}
	v := e.value
	if ok {
		a, err := fieldAt(cur, o.field)
		if err != nil {
			return err
		}
		b, err := fieldAt(e.value, o.field)
		if err != nil {
			return err
		}
		switch o.kind {
		case aggSum:
			v = withField(cur, o.field, addNumbers(a, b))
		case aggMin:
			v = cur
			if less(b, a) {
				v = withField(cur, o.field, b)
			}
		case aggMax:
			v = cur
			if less(a, b) {
				v = withField(cur, o.field, b)
			}
		case aggMinBy:
			v = cur
			if less(b, a) {
				v = e.value
			}
		case aggMaxBy:
			v = cur
			if less(a, b) {
				v = e.value
			}
		}
	}
	if err := o.state.put(e, v); err != nil {
		return err
	}
	return in.emit(v, e.ts)
}

func (o *builtinAggOp) finish(*instance) error { return nil }

// fieldAt returns the value at a field path of a record or tuple.
func fieldAt(v any, path []pathStep) (any, error) {
	for _, s := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[s.field]
		case []any:
			if s.index < 0 || s.index >= len(c) {
				return nil, fmt.Errorf("no position %d", s.index)
			}
			v = c[s.index]
		default:
			return nil, fmt.Errorf("cannot select %q from %T", s.field, v)
		}
	}
	return v, nil
}

// withField returns a copy of v with the value at path replaced (containers along the path
// are copied; v itself is never modified).
func withField(v any, path []pathStep, nv any) any {
	if len(path) == 0 {
		return nv
	}
	s := path[0]
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = x
		}
		m[s.field] = withField(c[s.field], path[1:], nv)
		return m
	case []any:
		l := append([]any(nil), c...)
		l[s.index] = withField(c[s.index], path[1:], nv)
		return l
	}
	return v
}

// addNumbers adds two numbers of one numeric type (nil counts as absent).
func addNumbers(a, b any) any {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return x + y
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x + y
		}
	case nil:
		return b
	}
	return a
}

// less compares two numbers (or strings) of one type; nil is never less.
func less(a, b any) bool {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return ok && x < y
	case float64:
		y, ok := b.(float64)
		return ok && x < y
	case string:
		y, ok := b.(string)
		return ok && x < y
	}
	return false
}
