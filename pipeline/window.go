package pipeline

import (
	"gopkg.in/yaml.v3"
)

// windowed reads the keys of the windowed kinds: window, allowed_lateness, late_output and,
// for window and window_all, the choice of fn, reduce or aggregate.
func (l *loader) windowed(node *Node, m map[string]entry, what string) {
	if e, ok := m["window"]; ok {
		node.Window = l.window(e.val, what)
	}
	if e, ok := m["allowed_lateness"]; ok {
		node.AllowedLateness = l.duration(e.val, what+": allowed_lateness", true)
	}
	if e, ok := m["late_output"]; ok {
		node.LateOutput = l.str(e.val, what+": late_output")
		if node.LateOutput != "" && !uidRE.MatchString(node.LateOutput) {
			l.errorf(posOf(e.val), CodeUID, "late_output %q may only hold A-Z, a-z, 0-9, '.', '_' and '-'", node.LateOutput)
		}
	}
	if node.Op().Output != OutWindowBody {
		return
	}
	if e, ok := m["aggregate"]; ok {
		l.windowAggregate(node, e, m, what)
	}
	n := 0
	for _, k := range []string{"fn", "reduce", "aggregate"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	_, hasOutput := m["output"]
	_, hasFn := m["fn"]
	switch {
	case n == 0:
		l.errorf(node.Pos, CodeMissingKey, "%s: a window needs one of fn (a window function), reduce or aggregate", what)
	case n > 1:
		l.errorf(node.Pos, CodeValue, "%s: fn, reduce and aggregate exclude each other: keep one", what)
	case hasFn && !hasOutput:
		l.errorf(node.Pos, CodeMissingKey, "%s: a window function needs its output type (output:)", what)
	}
}

// windowAggregate reads `aggregate: {init, fn, result, accumulator}` of a window.
func (l *loader) windowAggregate(node *Node, e entry, m map[string]entry, what string) {
	am := l.fields(e.val, what+": aggregate", []string{"init", "fn", "result", "accumulator"}, nil)
	if am == nil {
		return
	}
	l.require(am, posOf(e.val), what+": aggregate", "init", "fn", "accumulator")
	for _, f := range []struct {
		key string
		dst **Code
	}{{"init", &node.Init}, {"fn", &node.Fn}, {"result", &node.Result}} {
		if fe, ok := am[f.key]; ok {
			*f.dst = l.fn(fe.val, node.UID+".aggregate."+f.key)
		}
	}
	if a, ok := am["accumulator"]; ok {
		node.Accumulator = l.typ(a.val, what+": aggregate.accumulator")
	}
	if _, ok := m["output"]; node.Result != nil && !ok {
		l.errorf(posOf(am["result"].key), CodeMissingKey, "%s: with aggregate.result the output type must be declared (output:)", what)
	}
}

// window reads `{tumbling: D}`, `{sliding: {size: D, slide: D}}` or `{session: {gap: D}}`.
func (l *loader) window(n *yaml.Node, what string) *Window {
	what += ": window"
	m := l.fields(n, what, []string{"tumbling", "sliding", "session"}, nil)
	if m == nil {
		return nil
	}
	if len(m) != 1 {
		l.errorf(posOf(n), CodeValue, "%s must be exactly one of {tumbling: 1m}, {sliding: {size: 10m, slide: 1m}} or {session: {gap: 30s}}", what)
		return nil
	}
	w := &Window{Pos: posOf(n)}
	if e, ok := m["tumbling"]; ok {
		w.Tumbling = l.duration(e.val, what+".tumbling", false)
	}
	if e, ok := m["sliding"]; ok {
		if sm := l.fields(e.val, what+".sliding", []string{"size", "slide"}, nil); sm != nil {
			l.require(sm, posOf(e.val), what+".sliding", "size", "slide")
			if s, ok := sm["size"]; ok {
				w.SlidingSize = l.duration(s.val, what+".sliding.size", false)
			}
			if s, ok := sm["slide"]; ok {
				w.SlidingSlide = l.duration(s.val, what+".sliding.slide", false)
			}
		}
	}
	if e, ok := m["session"]; ok {
		if sm := l.fields(e.val, what+".session", []string{"gap"}, nil); sm != nil {
			l.require(sm, posOf(e.val), what+".session", "gap")
			if g, ok := sm["gap"]; ok {
				w.SessionGap = l.duration(g.val, what+".session.gap", false)
			}
		}
	}
	return w
}
