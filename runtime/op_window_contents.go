package runtime

import (
	"fmt"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// newWindowContents returns the body of a window or window_all: its records for a window
// function, or the running value of `reduce:` or `aggregate:`.
func newWindowContents(in *instance, fn func(*pipeline.Code) *script.Func) windowBody {
	n := in.node
	s := in.stateByName(pipeline.StateContents)
	switch {
	case n.WindowReduce != nil:
		return &reduceContents{s: s, fn: fn(n.WindowReduce), typ: n.InTypes[0]}
	case n.Accumulator != nil:
		agg := &aggregateContents{s: s, init: fn(n.Init), fn: fn(n.Fn), result: fn(n.Result),
			acc: n.Accumulator, out: n.OutType}
		if n.AggregatesAtFire() {
			return &foldContents{agg: agg}
		}
		return agg
	}
	return &listContents{s: s, fn: fn(n.Fn), out: n.OutType}
}

// windowJS is the JS value of a window: {start, end}.
func windowJS(in *instance, w window) goja.Value {
	return in.rt.ToJS(map[string]any{"start": w.start, "end": w.end})
}

// appendTo appends e's value to the list at ck of s.
func appendTo(s *keyedState, kg uint16, ck []byte, v any) (existed bool, err error) {
	cur, ok, err := s.cache.Get(kg, ck)
	if err != nil {
		return false, err
	}
	l, _ := cur.([]any)
	return ok, s.cache.Put(kg, ck, append(l, v))
}

// concatInto appends the lists at srcs to the list at dst and deletes srcs.
func concatInto(s *keyedState, kg uint16, dst []byte, srcs [][]byte) error {
	cur, _, err := s.cache.Get(kg, dst)
	if err != nil {
		return err
	}
	all, _ := cur.([]any)
	for _, src := range srcs {
		v, ok, err := s.cache.Get(kg, src)
		if err != nil {
			return err
		}
		if ok {
			all = append(all, v.([]any)...)
		}
		if err := s.cache.Delete(kg, src); err != nil {
			return err
		}
	}
	if len(all) == 0 {
		return nil
	}
	return s.cache.Put(kg, dst, all)
}

// listContents keeps a window's records for fn(key, window, events).
type listContents struct {
	s   *keyedState
	fn  *script.Func
	out *schema.Type
}

func (c *listContents) add(_ *instance, _ int, kg uint16, ck []byte, e *element) (bool, error) {
	return appendTo(c.s, kg, ck, e.value)
}

func (c *listContents) fire(in *instance, key any, w window, kg uint16, ck []byte, ts int64) (bool, error) {
	cur, ok, err := c.s.cache.Get(kg, ck)
	if err != nil || !ok {
		return false, err
	}
	res, err := c.fn.Call(in.rt.ToJSTyped(key, in.node.KeyType()), windowJS(in, w), in.rt.ToJSTyped(cur, c.s.desc.Schema))
	if err != nil {
		return true, in.userErr(err)
	}
	return true, in.emitAll(res, c.out, ts)
}

func (c *listContents) clear(kg uint16, ck []byte) error { return c.s.cache.Delete(kg, ck) }

func (c *listContents) merge(_ *instance, kg uint16, dst []byte, srcs [][]byte) error {
	return concatInto(c.s, kg, dst, srcs)
}

func (c *listContents) states() []*keyedState { return []*keyedState{c.s} }

// reduceContents keeps a window's reduced value: the first record, then fn(acc, e).
type reduceContents struct {
	s   *keyedState
	fn  *script.Func
	typ *schema.Type
}

func (c *reduceContents) add(in *instance, _ int, kg uint16, ck []byte, e *element) (bool, error) {
	cur, ok, err := c.s.cache.Get(kg, ck)
	if err != nil {
		return false, err
	}
	v := e.value
	if ok {
		if v, err = in.callConvert(c.fn, c.typ, "reduce result", in.rt.ToJSTyped(cur, c.typ), in.rt.ToJSTyped(e.value, c.typ)); err != nil {
			return true, err
		}
	}
	return ok, c.s.cache.Put(kg, ck, v)
}

func (c *reduceContents) fire(in *instance, _ any, _ window, kg uint16, ck []byte, ts int64) (bool, error) {
	cur, ok, err := c.s.cache.Get(kg, ck)
	if err != nil || !ok {
		return false, err
	}
	return true, in.emit(cur, ts)
}

func (c *reduceContents) clear(kg uint16, ck []byte) error { return c.s.cache.Delete(kg, ck) }

func (c *reduceContents) merge(in *instance, kg uint16, dst []byte, srcs [][]byte) error {
	acc, ok, err := c.s.cache.Get(kg, dst)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		v, found, err := c.s.cache.Get(kg, src)
		if err != nil {
			return err
		}
		switch {
		case !found:
		case !ok:
			acc, ok = v, true
		default:
			if acc, err = in.callConvert(c.fn, c.typ, "reduce result", in.rt.ToJSTyped(acc, c.typ), in.rt.ToJSTyped(v, c.typ)); err != nil {
				return err
			}
		}
		if err := c.s.cache.Delete(kg, src); err != nil {
			return err
		}
	}
	if !ok {
		return nil
	}
	return c.s.cache.Put(kg, dst, acc)
}

func (c *reduceContents) states() []*keyedState { return []*keyedState{c.s} }

// aggregateContents keeps a window's accumulator: init(), then fn(acc, e); it emits
// result(acc), or acc without result.
type aggregateContents struct {
	s                *keyedState
	init, fn, result *script.Func
	acc, out         *schema.Type
}

func (c *aggregateContents) add(in *instance, _ int, kg uint16, ck []byte, e *element) (bool, error) {
	cur, ok, err := c.s.cache.Get(kg, ck)
	if err != nil {
		return false, err
	}
	if !ok {
		if cur, err = in.callConvert(c.init, c.acc, "init result"); err != nil {
			return false, err
		}
	}
	acc, err := c.step(in, cur, e.value)
	if err != nil {
		return ok, err
	}
	return ok, c.s.cache.Put(kg, ck, acc)
}

// step is fn(acc, v).
func (c *aggregateContents) step(in *instance, acc, v any) (any, error) {
	return in.callConvert(c.fn, c.acc, "accumulator", in.rt.ToJSTyped(acc, c.acc), in.rt.ToJSTyped(v, in.node.InTypes[0]))
}

func (c *aggregateContents) fire(in *instance, _ any, _ window, kg uint16, ck []byte, ts int64) (bool, error) {
	acc, ok, err := c.s.cache.Get(kg, ck)
	if err != nil || !ok {
		return false, err
	}
	return true, c.emitResult(in, acc, ts)
}

// emitResult emits result(acc), or acc without result.
func (c *aggregateContents) emitResult(in *instance, acc any, ts int64) error {
	if c.result != nil {
		var err error
		if acc, err = in.callConvert(c.result, c.out, "result", in.rt.ToJSTyped(acc, c.acc)); err != nil {
			return err
		}
	}
	return in.emit(acc, ts)
}

func (c *aggregateContents) clear(kg uint16, ck []byte) error { return c.s.cache.Delete(kg, ck) }

// merge is never called: only session windows merge, and their aggregate is a foldContents.
func (c *aggregateContents) merge(in *instance, _ uint16, _ []byte, _ [][]byte) error {
	return fmt.Errorf("operator %q: aggregate accumulators cannot be merged", in.node.UID)
}

func (c *aggregateContents) states() []*keyedState { return []*keyedState{c.s} }

// foldContents is the aggregate of an event-time session window: it keeps the session's
// records and folds them (init, then fn over each, then result) when the window fires. An
// out-of-order record can join two sessions, and two accumulators cannot be combined (an
// aggregate has no merge function), so the records are what is merged.
type foldContents struct{ agg *aggregateContents }

func (c *foldContents) add(_ *instance, _ int, kg uint16, ck []byte, e *element) (bool, error) {
	return appendTo(c.agg.s, kg, ck, e.value)
}

func (c *foldContents) fire(in *instance, _ any, _ window, kg uint16, ck []byte, ts int64) (bool, error) {
	cur, ok, err := c.agg.s.cache.Get(kg, ck)
	if err != nil || !ok {
		return false, err
	}
	acc, err := in.callConvert(c.agg.init, c.agg.acc, "init result")
	for _, v := range cur.([]any) {
		if err != nil {
			return true, err
		}
		acc, err = c.agg.step(in, acc, v)
	}
	if err != nil {
		return true, err
	}
	return true, c.agg.emitResult(in, acc, ts)
}

func (c *foldContents) clear(kg uint16, ck []byte) error { return c.agg.s.cache.Delete(kg, ck) }

func (c *foldContents) merge(_ *instance, kg uint16, dst []byte, srcs [][]byte) error {
	return concatInto(c.agg.s, kg, dst, srcs)
}

func (c *foldContents) states() []*keyedState { return []*keyedState{c.agg.s} }
