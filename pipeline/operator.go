package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// pathRE is a field path: dotted identifiers or tuple positions (`room`, `user.id`, `0`).
var pathRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*|[0-9]+)(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$`)

// operator reads an operator's keys (types are checked later, along the edges).
func (l *loader) operator(node *Node, a *aux, m map[string]entry, what string) {
	op := node.Op()
	var input, inputs *yaml.Node
	if e, ok := m["input"]; ok {
		input = e.val
	}
	if e, ok := m["inputs"]; ok {
		inputs = e.val
	}
	l.inputs(node, a, input, inputs, op.Inputs)
	if e, ok := m["parallelism"]; ok && op.OneSubtask && node.Parallelism > 1 {
		l.errorf(posOf(e.val), CodeValue, "%s: %s runs at parallelism 1", what, node.Kind)
		node.Parallelism = 1
	}
	if e, ok := m["function_timeout"]; ok {
		node.FunctionTimeout = l.duration(e.val, what+": function_timeout", false)
	}
	if op.JS {
		l.errorPolicy(node, m, what)
	}
	l.keyBy(node, a, m, what)
	l.functions(node, m)
	if e, ok := m["output"]; ok {
		node.Output = l.typ(e.val, what+": output")
	}
	if e, ok := m["accumulator"]; ok {
		node.Accumulator = l.typ(e.val, what+": accumulator")
	}
	if e, ok := m["field"]; ok {
		a.fieldPos = posOf(e.val)
		if s := l.str(e.val, what+": field"); s != "" {
			if !pathRE.MatchString(s) {
				l.errorf(posOf(e.val), CodeValue, "%s: field %q must be a field name, a dotted path (user.age) or a tuple position (1)", what, s)
			} else {
				node.Field = strings.Split(s, ".")
			}
		}
	}
	if e, ok := m["state"]; ok {
		if d := l.stateDecl(node, "value", e.val, posOf(e.key)); d != nil {
			node.States = append(node.States, d)
			if d.Kind != StateValue {
				l.errorf(posOf(e.val), CodeState, "%s: the state of flat_map_with_state is a value (the function returns the new one), not a %s", what, d.Kind)
			}
		}
	}
	if e, ok := m["states"]; ok {
		l.processStates(node, e.val)
	}
	if op.Windowed {
		l.windowed(node, m, what)
	}
	if op.Output == OutAggregate {
		l.resultOutput(node, m, what)
	}
}

// functions reads the function fields of an operator.
func (l *loader) functions(node *Node, m map[string]entry) {
	for _, f := range []struct {
		key string
		dst **Code
	}{{"init", &node.Init}, {"fn", &node.Fn}, {"result", &node.Result}, {"on_timer", &node.OnTimer}, {"reduce", &node.WindowReduce}} {
		if e, ok := m[f.key]; ok {
			*f.dst = l.fn(e.val, node.UID+"."+f.key)
		}
	}
}

// keyBy reads key_by (one selector, or [left, right] for the two-input kinds) and key_type.
func (l *loader) keyBy(node *Node, a *aux, m map[string]entry, what string) {
	if e, ok := m["key_type"]; ok {
		a.keyType, a.keyTypePos = l.typ(e.val, what+": key_type"), posOf(e.val)
	}
	e, ok := m["key_by"]
	if !ok {
		return
	}
	if node.Op().Inputs != 2 {
		node.KeyBy = []KeyBy{l.selector(node, a, e.val, node.UID+".key_by")}
		return
	}
	if e.val.Kind != yaml.SequenceNode || len(e.val.Content) != 2 {
		l.errorf(posOf(e.val), CodeValue, "%s: key_by must be a sequence of two key selectors [left, right], got %s", what, describe(e.val))
		return
	}
	for i, side := range e.val.Content {
		node.KeyBy = append(node.KeyBy, l.selector(node, a, side, fmt.Sprintf("%s.key_by[%d]", node.UID, i)))
	}
}

// selector reads one key selector: a field path, else a JS function of key_type (default
// string). A path's type is known only once the input type is (see keyTypes).
func (l *loader) selector(node *Node, a *aux, n *yaml.Node, field string) KeyBy {
	kb := KeyBy{Pos: posOf(n)}
	if v := strings.TrimSpace(n.Value); n.Kind == yaml.ScalarNode && pathRE.MatchString(v) {
		kb.Path = strings.Split(v, ".")
		return kb
	}
	kb.Fn = l.fn(n, field)
	kb.Type = a.keyType
	if kb.Type == nil {
		kb.Type = stringType
	}
	return kb
}

// resultOutput sets the output of an aggregate (kind or window aggregate): `result`'s declared
// `output`, else the accumulator (an `output` then must equal it, checked with the types).
func (l *loader) resultOutput(node *Node, m map[string]entry, what string) {
	if node.Result != nil {
		if _, ok := m["output"]; !ok {
			l.errorf(node.Keys["result"], CodeMissingKey, "%s: with result: the output type must be declared (output:)", what)
		}
	}
}
