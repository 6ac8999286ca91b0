package runtime

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/pipeline"
)

// A function that runs when a window or a timer fires (a window function or aggregate's
// result, a window_join pair, co_group, a process on_timer) has no input record: the
// operator's on_error applies to what it was called with instead, its firing.

// firing is what a function run by a window or a timer firing was called with, written as
// the record of its dead-letter entry: the key (none for window_all) and the window, with
// the pair of a window_join, or the key and the time of a process timer.
type firing struct {
	Key    any          `json:"key,omitempty"`
	Window *windowRange `json:"window,omitempty"`
	Left   any          `json:"left,omitempty"`
	Right  any          `json:"right,omitempty"`
	Timer  *int64       `json:"timer,omitempty"`
}

// windowRange is a window as a dead letter shows it.
type windowRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// windowFiring is the firing of window w of key (nil: window_all's one key).
func windowFiring(key any, w window) firing {
	return firing{Key: key, Window: &windowRange{w.start, w.end}}
}

// String says which firing failed, for messages: `key 1, window {"start":0,"end":10000}`,
// each value cut as a record is.
func (f firing) String() string {
	var parts []string
	add := func(name string, v any) {
		if v != nil {
			parts = append(parts, name+" "+cutJSON(v))
		}
	}
	add("key", f.Key)
	if f.Window != nil {
		add("window", f.Window)
	}
	add("left", f.Left)
	add("right", f.Right)
	if f.Timer != nil {
		add("timer", *f.Timer)
	}
	return strings.Join(parts, ", ")
}

// fireFailed applies the node's on_error to err, a failure of the function that ran for f:
// skip and dead_letter drop that call's output and go on (nil); under fail, err is returned
// naming the firing (key and window, or timer), as a record's failure names the record. A
// failure that is not this node's own is returned as it is.
func (in *instance) fireFailed(err error, f firing) error {
	var ue *userError
	if !errors.As(err, &ue) || ue != err {
		return err
	}
	f = f.typed(in.node)
	where := f.String()
	if dropped, derr := in.job.dropFailed(in.node, ue.err, f, where); dropped {
		return derr
	}
	if where == "" {
		return err
	}
	return fmt.Errorf("%s (%s)", err, where)
}

// typed renders f's key and records as their types lay them out (fields in declared order).
func (f firing) typed(n *pipeline.Node) firing {
	if f.Key != nil {
		f.Key = recordJSON(n.KeyType(), f.Key)
	}
	if f.Left != nil {
		f.Left = recordJSON(inputTypes(n, 0).value, f.Left)
	}
	if f.Right != nil {
		f.Right = recordJSON(inputTypes(n, 1).value, f.Right)
	}
	return f
}
