package runtime

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// processOp is `process`: fn(e, ctx) with named value, list and map states, ctx.emit and
// ctx.key. The ctx object is built once per instance; only ctx.key changes per record.
type processOp struct {
	fn     *script.Func
	out    *schema.Type
	ctx    *goja.Object
	cur    *element
	timers *processTimers
	// emitErr is a failure downstream of ctx.emit during the current call: that node's, not
	// this operator's, so on_error does not apply to it.
	emitErr error
}

func newProcessOp(in *instance, fn *script.Func) (*processOp, error) {
	o := &processOp{fn: fn, out: in.node.OutType}
	vm := in.rt.VM()
	o.ctx = vm.NewObject()
	// key is set from Go before every call: JS must not turn it into an accessor whose setter
	// would run outside any call's timeout.
	if err := o.ctx.DefineDataProperty("key", goja.Undefined(), goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return nil, err
	}
	states := vm.NewObject()
	for _, s := range in.states {
		if s.desc.Kind == pipeline.StateInternal {
			continue
		}
		if err := states.Set(s.desc.Name, o.stateObject(in, s)); err != nil {
			return nil, err
		}
	}
	set := func(name string, v any) {
		if err := o.ctx.Set(name, v); err != nil {
			panic(err) // only fails for frozen objects: a programming error
		}
	}
	set("state", states)
	if err := o.initTimers(in); err != nil {
		return nil, err
	}
	set("emit", func(v goja.Value) {
		out, err := in.rt.FromJSAs(v, o.out)
		if err != nil {
			panic(vm.NewTypeError("ctx.emit: %v", err))
		}
		if err := in.emit(out, o.cur.ts); err != nil {
			o.emitErr = err
			panic(vm.NewGoError(err))
		}
	})
	return o, nil
}

func (o *processOp) process(in *instance, _ int, e *element) error {
	o.cur = e
	if err := o.ctx.Set("key", in.rt.ToJSTyped(e.key, in.node.KeyType())); err != nil {
		return err
	}
	return o.call(in, o.fn, in.inputJS(e))
}

// call calls fn(arg, ctx): a throw or a timeout is the operator's user error, but a failure
// downstream of ctx.emit is returned as it is, even when the function caught it.
func (o *processOp) call(in *instance, fn *script.Func, arg goja.Value) error {
	o.emitErr = nil
	_, err := fn.Call(arg, o.ctx)
	if downstream := o.emitErr; downstream != nil {
		o.emitErr = nil
		return downstream
	}
	if err != nil {
		return in.userErr(err)
	}
	return nil
}

func (o *processOp) finish(*instance) error { return nil }

// stateObject builds the JS accessor object of one declared state.
func (o *processOp) stateObject(in *instance, s *keyedState) *goja.Object {
	vm := in.rt.VM()
	obj := vm.NewObject()
	throw := func(err error) {
		panic(vm.NewTypeError("ctx.state.%s: %v", s.desc.Name, err))
	}
	get := func() any {
		v, ok, err := s.get(o.cur)
		if err != nil {
			throw(err)
		}
		if !ok {
			return nil
		}
		return v
	}
	put := func(v any) {
		if err := s.put(o.cur, v); err != nil {
			throw(err)
		}
	}
	clear := func() {
		if err := s.del(o.cur); err != nil {
			throw(err)
		}
	}
	convert := func(t *schema.Type, v goja.Value) any {
		x, err := in.rt.FromJSAs(v, t)
		if err != nil {
			throw(err)
		}
		return x
	}
	def := func(name string, fn any) {
		if err := obj.Set(name, fn); err != nil {
			panic(err)
		}
	}
	def("clear", clear)
	switch s.desc.Kind {
	case pipeline.StateValue:
		def("get", func() goja.Value {
			v := get()
			if v == nil {
				return goja.Undefined()
			}
			return in.rt.ToJSTyped(v, s.desc.Schema)
		})
		def("set", func(v goja.Value) {
			if goja.IsUndefined(v) || goja.IsNull(v) {
				clear()
				return
			}
			put(convert(s.desc.Type, v))
		})
	case pipeline.StateList:
		list := func() []any {
			l, _ := get().([]any)
			return l
		}
		def("get", func() goja.Value {
			l := list()
			if l == nil {
				l = []any{}
			}
			return in.rt.ToJSTyped(l, s.desc.Schema)
		})
		def("add", func(v goja.Value) {
			l := list()
			put(append(l[:len(l):len(l)], convert(s.desc.Type, v)))
		})
		def("update", func(v goja.Value) {
			l, ok := convert(s.desc.Schema, v).([]any)
			if !ok || len(l) == 0 {
				clear()
				return
			}
			put(l)
		})
	case pipeline.StateMap:
		m := func() map[string]any {
			x, _ := get().(map[string]any)
			return x
		}
		key := func(k goja.Value) string {
			if s.desc.MapKey != nil && s.desc.MapKey.Kind == schema.Int {
				n, err := in.rt.FromJSAs(k, s.desc.MapKey)
				if err != nil {
					throw(fmt.Errorf("map key: %w", err))
				}
				return strconv.FormatInt(n.(int64), 10)
			}
			return k.String()
		}
		def("get", func(k goja.Value) goja.Value {
			if v, ok := m()[key(k)]; ok {
				return in.rt.ToJSTyped(v, s.desc.Type)
			}
			return goja.Undefined()
		})
		def("has", func(k goja.Value) bool {
			_, ok := m()[key(k)]
			return ok
		})
		def("put", func(k, v goja.Value) {
			old := m()
			nm := make(map[string]any, len(old)+1)
			for kk, vv := range old {
				nm[kk] = vv
			}
			nm[key(k)] = convert(s.desc.Type, v)
			put(nm)
		})
		def("remove", func(k goja.Value) {
			old := m()
			kk := key(k)
			if _, ok := old[kk]; !ok {
				return
			}
			if len(old) == 1 {
				clear()
				return
			}
			nm := make(map[string]any, len(old))
			for x, v := range old {
				if x != kk {
					nm[x] = v
				}
			}
			put(nm)
		})
		def("keys", func() goja.Value {
			return in.rt.ToJS(sortedKeys(m(), s.desc.MapKey))
		})
		def("entries", func() goja.Value {
			mm := m()
			keys := sortedKeys(mm, s.desc.MapKey)
			out := make([]any, len(keys))
			for i, k := range keys {
				out[i] = vm.NewArray(in.rt.ToJS(k), in.rt.ToJSTyped(mm[k.(string)], s.desc.Type))
			}
			return vm.NewArray(out...)
		})
	}
	return obj
}

// sortedKeys returns the keys of a map state in key order (ints numerically).
func sortedKeys(m map[string]any, keyType *schema.Type) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if keyType != nil && keyType.Kind == schema.Int {
		sort.Slice(keys, func(i, j int) bool {
			a, _ := strconv.ParseInt(keys[i], 10, 64)
			b, _ := strconv.ParseInt(keys[j], 10, 64)
			return a < b
		})
	} else {
		sort.Strings(keys)
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
