package script

import (
	"fmt"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// jsList is a tuple or list seen by JS (a goja.DynamicArray: Array.isArray, length and the
// array methods work on it).
type jsList struct {
	node
	s []any        // the Go value: never written
	t *schema.Type // its tuple or list type, or nil

	// Until detached: the record and list elements read so far (nil until the first one).
	// Detached: every element; s is no longer read.
	vals     []goja.Value
	detached bool
}

// Len is the array's length.
func (w *jsList) Len() int {
	if w.detached {
		return len(w.vals)
	}
	return len(w.s)
}

// Get converts an element on access (see the package's wrapper notes); nil beyond the ends.
func (w *jsList) Get(i int) goja.Value {
	if i < 0 || i >= w.Len() {
		return nil
	}
	if w.vals != nil && w.vals[i] != nil {
		return w.vals[i]
	}
	v := w.s[i]
	if !isContainer(v) {
		return w.r.wrap(v, nil, nil)
	}
	if w.vals == nil {
		w.vals = make([]goja.Value, len(w.s))
	}
	w.vals[i] = w.r.wrap(v, w.elemType(i), &w.node)
	return w.vals[i]
}

// elemType is the declared type of element i, or nil.
func (w *jsList) elemType(i int) *schema.Type {
	switch {
	case w.t == nil:
		return nil
	case w.t.Kind == schema.List:
		return w.t.Elem
	case i < len(w.t.Elems):
		return w.t.Elems[i]
	}
	return nil
}

// Set writes into the wrapper's own elements, never into the Go value; writing beyond the end
// grows the array with undefined.
func (w *jsList) Set(i int, val goja.Value) bool {
	if i < 0 {
		return false
	}
	w.detach()
	if i >= len(w.vals) {
		w.grow(i + 1)
	}
	w.vals[i] = val
	w.touch()
	return true
}

// SetLen truncates the array or grows it with undefined.
func (w *jsList) SetLen(n int) bool {
	if n < 0 {
		return false
	}
	w.detach()
	if n < len(w.vals) {
		w.vals = w.vals[:n]
	} else {
		w.grow(n)
	}
	w.touch()
	return true
}

// grow extends the detached elements to n with undefined; beyond MaxArrayLen it throws a
// RangeError (a[1e9] = 1 would hold a billion elements).
func (w *jsList) grow(n int) {
	if n > MaxArrayLen {
		panic(w.r.rangeError(fmt.Sprintf("Array too long: %d elements (the limit is %d)", n, MaxArrayLen)))
	}
	for len(w.vals) < n {
		w.vals = append(w.vals, goja.Undefined())
	}
}

// detach converts every element into vals, so JS can write them.
func (w *jsList) detach() {
	if w.detached {
		return
	}
	vals := make([]goja.Value, len(w.s))
	for i := range w.s {
		vals[i] = w.Get(i)
	}
	w.vals, w.detached = vals, true
}
