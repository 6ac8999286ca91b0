package runtime

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// keySelector computes the key of a record: by a field path decided at plan time (no JS, no
// look-up by name beyond the map access itself) or by a JS function.
type keySelector struct {
	uid   string
	what  string // what messages call it: `operator "agg": key_by` (default) or `sink "out": key`
	typ   *schema.Type
	steps []pathStep
	fn    *script.Func
	rt    *script.Runtime
	parts []*keySelector // a composite key: the tuple of these selectors' keys
}

// pathStep is one step of a field path: a record field or a tuple position.
type pathStep struct {
	field string
	index int // >= 0 for a tuple position
}

func newKeySelector(uid string, kb pipeline.KeyBy, rt *script.Runtime, fn *script.Func) *keySelector {
	k := &keySelector{uid: uid, what: fmt.Sprintf("operator %q: key_by", uid), typ: kb.Type}
	if kb.Fn != nil {
		k.fn, k.rt = fn, rt
		return k
	}
	for _, p := range kb.Path {
		if i, err := strconv.Atoi(p); err == nil {
			k.steps = append(k.steps, pathStep{index: i})
		} else {
			k.steps = append(k.steps, pathStep{field: p, index: -1})
		}
	}
	return k
}

// keyOf returns the canonical key of a record.
func (k *keySelector) keyOf(v any) (any, error) {
	if k.parts != nil {
		key := make([]any, len(k.parts))
		for i, p := range k.parts {
			part, err := p.keyOf(v)
			if err != nil {
				return nil, err
			}
			key[i] = part
		}
		return key, nil
	}
	if k.fn == nil {
		for _, s := range k.steps {
			switch c := v.(type) {
			case map[string]any:
				v = c[s.field]
			case []any:
				if s.index < 0 || s.index >= len(c) {
					return nil, fmt.Errorf("%s: no position %d in %d elements", k.what, s.index, len(c))
				}
				v = c[s.index]
			default:
				return nil, fmt.Errorf("%s: cannot select %q from %T", k.what, s.field, v)
			}
		}
		if v == nil {
			return nil, fmt.Errorf("%s: the key is null", k.what)
		}
		return v, nil
	}
	if s := k.fn.Simple(); s != nil {
		if res, ok := s.Eval(v, script.Undefined); ok {
			if key, ok := res.As(k.typ); ok && key != nil {
				return key, nil
			}
		}
	}
	res, err := k.fn.Call(k.rt.ToJS(v))
	if err != nil {
		return nil, err
	}
	key, err := k.rt.FromJSAs(res, k.typ)
	var jsErr *script.Error
	if errors.As(err, &jsErr) { // reading the key threw or timed out
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s returned a key that does not fit key_type %s: %w", k.what, k.typ, err)
	}
	if key == nil {
		return nil, fmt.Errorf("%s returned null", k.what)
	}
	return key, nil
}

// assign sets e's key and key bytes, which it appends to arena.
func (k *keySelector) assign(e *element, arena *keyArena) error {
	key, err := k.keyOf(e.value)
	if err != nil {
		return err
	}
	kb, err := k.typ.AppendBinary(arena.room(), key)
	if err != nil {
		return fmt.Errorf("operator %q: key %v: %w", k.uid, key, err)
	}
	e.key, e.keyBytes = key, arena.keep(kb)
	return nil
}

// keyArena holds the key bytes of the records one exchange sends. Bytes are appended and never
// written again, so the keys of a batch handed to another subtask stay valid; a full arena is
// replaced, not reused. It costs an allocation per keyArenaSize bytes instead of one per
// record, and the state cache copies the keys it keeps, so an arena is not held by them.
type keyArena struct{ buf []byte }

// keyArenaSize is the size of one arena: the keys of a few batches.
const keyArenaSize = 8 << 10

// room returns the arena to append one key to, replacing it when it is nearly full.
func (a *keyArena) room() []byte {
	if cap(a.buf)-len(a.buf) < keyArenaSize/16 {
		a.buf = make([]byte, 0, keyArenaSize)
	}
	return a.buf
}

// keep takes the key appended to room()'s slice and returns it as a slice of its own (its
// capacity cut, so nothing appended to it can reach the next key).
func (a *keyArena) keep(buf []byte) []byte {
	start := len(a.buf)
	key := buf[start:len(buf):len(buf)]
	if cap(buf) == cap(a.buf) { // in place
		a.buf = buf
	} else { // the key outgrew the arena and took a copy of it: start a new one
		a.buf = nil
	}
	return key
}
