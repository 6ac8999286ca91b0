package runtime

import (
	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// joinBody is the body of window_join and co_group: the records of each input per key and
// window, in the internal states `left` and `right`.
type joinBody struct {
	sides   [2]*keyedState
	fn      *script.Func
	out     *schema.Type
	coGroup bool
}

func newJoinBody(in *instance, fn *script.Func) *joinBody {
	return &joinBody{
		sides: [2]*keyedState{in.stateByName(pipeline.StateLeft), in.stateByName(pipeline.StateRight)},
		fn:    fn, out: in.node.OutType, coGroup: in.node.OpKind() == pipeline.OpCoGroup,
	}
}

func (b *joinBody) add(_ *instance, input int, kg uint16, ck []byte, e *element) (bool, error) {
	existed, err := appendTo(b.sides[input], kg, ck, e.value)
	if err != nil || existed {
		return existed, err
	}
	_, other, err := b.sides[1-input].cache.Get(kg, ck)
	return other, err
}

// fire calls fn(l, r) for each pair of the window (window_join, left records in the outer
// loop), or fn(key, ls, rs) once (co_group). on_error applies to each pair on its own.
func (b *joinBody) fire(in *instance, key any, w window, kg uint16, ck []byte, ts int64) (bool, error) {
	var lists [2][]any
	found := false
	for i, s := range b.sides {
		v, ok, err := s.cache.Get(kg, ck)
		if err != nil {
			return false, err
		}
		found = found || ok
		lists[i], _ = v.([]any)
	}
	if !found {
		return false, nil
	}
	rt := in.rt
	if b.coGroup {
		res, err := b.fn.Call(rt.ToJSTyped(key, in.node.KeyType()), rt.ToJSTyped(nonNil(lists[0]), b.sides[0].desc.Schema), rt.ToJSTyped(nonNil(lists[1]), b.sides[1].desc.Schema))
		if err != nil {
			return true, in.userErr(err)
		}
		return true, in.emitAll(res, b.out, ts)
	}
	if len(lists[1]) == 0 {
		return true, nil
	}
	rights := make([]goja.Value, len(lists[1]))
	for i, r := range lists[1] {
		rights[i] = rt.ToJSTyped(r, in.node.InTypes[1])
	}
	for _, l := range lists[0] {
		lv := rt.ToJSTyped(l, in.node.InTypes[0])
		for j, r := range rights {
			v, err := in.callConvert(b.fn, b.out, "result", lv, r)
			if err != nil {
				f := windowFiring(key, w)
				f.Left, f.Right = l, lists[1][j]
				if err := in.fireFailed(err, f); err != nil {
					return true, err
				}
				continue
			}
			if err := in.emit(v, ts); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

func (b *joinBody) clear(kg uint16, ck []byte) error {
	for _, s := range b.sides {
		if err := s.cache.Delete(kg, ck); err != nil {
			return err
		}
	}
	return nil
}

func (b *joinBody) merge(_ *instance, kg uint16, dst []byte, srcs [][]byte) error {
	for _, s := range b.sides {
		if err := concatInto(s, kg, dst, srcs); err != nil {
			return err
		}
	}
	return nil
}

func (b *joinBody) states() []*keyedState { return b.sides[:] }

// nonNil returns l, or an empty list for nil (a side without records is [] in JS).
func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}
