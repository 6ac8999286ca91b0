package pipeline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/internal/suggest"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/schema"
)

// timeDomain says whether the records of a stream carry event time.
type timeDomain uint8

const (
	processingTime timeDomain = iota + 1
	eventTime
	mixedTime
)

// types infers the type of every stream in topological order, checks each operator against
// its input types, resolves key selectors and field paths, and adds the internal states.
// A node whose input type is unknown (an error reported elsewhere) is skipped.
func (l *loader) types() {
	domains := map[*Node]timeDomain{}
	for _, n := range l.p.Order {
		if n.Role == RoleSource {
			n.OutType = n.Schema
			if n.Schema != nil && !l.aux[n].broken {
				l.connectorTypes(n, n.Schema)
			}
			domains[n] = processingTime
			if n.Timestamp != nil || n.ConnectorTime {
				domains[n] = eventTime
			}
			continue
		}
		n.InTypes = make([]*schema.Type, len(n.Inputs))
		known := !l.aux[n].broken
		for i, in := range n.Inputs {
			s := l.streams[in]
			n.InTypes[i] = s.node.OutType
			if s.late && len(s.node.InTypes) > 0 {
				n.InTypes[i] = s.node.InTypes[0]
			}
			known = known && n.InTypes[i] != nil
			domains[n] |= domains[s.node]
		}
		if known && len(n.InTypes) > 0 && n.Role == RoleSink {
			l.sinkTypes(n)
		}
		if known && len(n.InTypes) > 0 && n.Role == RoleOperator {
			l.operatorTypes(n, domains[n])
			if n.Window != nil && domains[n] == mixedTime {
				domains[n] = eventTime // reported here, not again downstream
			}
		}
	}
}

// sinkTypes checks a sink's options against its input type.
func (l *loader) sinkTypes(n *Node) { l.connectorTypes(n, n.InTypes[0]) }

// connectorTypes checks a source's or sink's options against its record type t (a source's
// schema, a sink's input): every field path option (a sink's `key: room`) must exist in t, and
// the connector kind checks the rest (Spec.CheckInput).
func (l *loader) connectorTypes(n *Node, t *schema.Type) {
	role := connectors.RoleSink
	if n.Role == RoleSource {
		role = connectors.RoleSource
	}
	what := fmt.Sprintf("%s %q", role, n.UID)
	for name, v := range n.Options {
		if kb, ok := v.(KeyBy); ok && kb.Path != nil {
			if _, err := fieldPath(t, kb.Path); err != nil {
				l.errorf(kb.Pos, CodeType, "%s: %s: %v", what, name, err)
			}
		}
	}
	spec, _ := connectors.Lookup(role, n.Kind)
	if spec.CheckInput == nil {
		return
	}
	for _, f := range spec.CheckInput(n.Options, t) {
		pos, ok := n.Keys[f.Key]
		if !ok {
			pos = n.Pos
		}
		l.errorf(pos, CodeType, "%s: %s", what, f.Msg)
	}
}

// operatorTypes types one operator whose input types are known.
func (l *loader) operatorTypes(n *Node, domain timeDomain) {
	what := fmt.Sprintf("operator %q", n.UID)
	in := n.InTypes[0]
	switch n.Op().Output {
	case OutDeclared:
		n.OutType = n.Output
	case OutInput:
		n.OutType = in
	case OutUnion:
		n.OutType = l.unionType(n)
	case OutAggregate:
		n.OutType = l.aggregateOutput(n, what)
	case OutWindowBody:
		switch {
		case n.WindowReduce != nil:
			n.OutType = l.declaredOr(n, in, "the input type (a window reduce keeps it)", what)
		case n.Accumulator != nil:
			n.OutType = l.aggregateOutput(n, what)
		default:
			n.OutType = n.Output
		}
	}
	if n.Window != nil {
		n.Window.ProcessingTime = domain == processingTime
		if domain == mixedTime {
			l.errorf(n.Window.Pos, CodeType, "%s: its inputs mix event time (a source with timestamp:) and processing time (a source without): give every source upstream a timestamp, or none", what)
		}
	}
	if !l.keyTypes(n, what) || (n.Field != nil && !l.fieldType(n, in, what)) {
		return
	}
	internalStates(n)
}

// unionType checks that a union's inputs share one type.
func (l *loader) unionType(n *Node) *schema.Type {
	first := n.InTypes[0]
	for i, t := range n.InTypes[1:] {
		if !t.Equal(first) {
			l.errorf(l.aux[n].inputPos[i+1], CodeType, "union %q: input %q has type %s but input %q has type %s: a union's inputs must share one type",
				n.UID, n.Inputs[i+1], t, n.Inputs[0], first)
			return nil
		}
	}
	return first
}

// aggregateOutput is the output of an aggregate: the declared output with `result`, else the
// accumulator.
func (l *loader) aggregateOutput(n *Node, what string) *schema.Type {
	if n.Result != nil {
		return n.Output
	}
	if n.Accumulator == nil {
		return nil
	}
	return l.declaredOr(n, n.Accumulator, "the accumulator (without result the output is the accumulator)", what)
}

// declaredOr returns t, checking that a declared output equals it.
func (l *loader) declaredOr(n *Node, t *schema.Type, what, node string) *schema.Type {
	if n.Output != nil && !n.Output.Equal(t) {
		l.errorf(n.Keys["output"], CodeType, "%s: output %s must be %s, %s", node, n.Output, what, t)
		return nil
	}
	return t
}

// keyTypes resolves the key selectors of a keyed operator; false when one is wrong.
func (l *loader) keyTypes(n *Node, what string) bool {
	a := l.aux[n]
	for i := range n.KeyBy {
		kb := &n.KeyBy[i]
		if kb.Path == nil {
			continue
		}
		t, err := fieldPath(n.InTypes[i], kb.Path)
		if err != nil {
			l.errorf(kb.Pos, CodeType, "%s: key_by %q: %v", what, strings.Join(kb.Path, "."), err)
			return false
		}
		if t.Kind == schema.Optional {
			l.errorf(kb.Pos, CodeType, "%s: key_by %q is optional (%s): a key must always be present", what, strings.Join(kb.Path, "."), t)
			return false
		}
		if a.keyType != nil && !a.keyType.Equal(t) {
			l.errorf(a.keyTypePos, CodeType, "%s: key_type %s differs from the type of key_by %q, %s", what, a.keyType, strings.Join(kb.Path, "."), t)
			return false
		}
		kb.Type = t
	}
	if len(n.KeyBy) == 2 && n.KeyBy[0].Type != nil && n.KeyBy[1].Type != nil && !n.KeyBy[0].Type.Equal(n.KeyBy[1].Type) {
		l.errorf(n.KeyBy[1].Pos, CodeType, "%s: the left key is %s but the right key is %s: both sides must have one key type", what, n.KeyBy[0].Type, n.KeyBy[1].Type)
		return false
	}
	return true
}

// fieldType checks the `field:` of the built-in aggregations: it must exist and, for sum, min
// and max, be numeric.
func (l *loader) fieldType(n *Node, in *schema.Type, what string) bool {
	field := strings.Join(n.Field, ".")
	t, err := fieldPath(in, n.Field)
	if err != nil {
		l.errorf(l.aux[n].fieldPos, CodeType, "%s: field %q: %v", what, field, err)
		return false
	}
	switch n.Op().Field {
	case FieldNumber:
		if t.Kind != schema.Int && t.Kind != schema.Float {
			l.errorf(l.aux[n].fieldPos, CodeType, "%s: field %q is %s: %s needs an int or float field", what, field, t, n.Kind)
			return false
		}
	case FieldOrdered:
		if t.Kind != schema.Int && t.Kind != schema.Float && t.Kind != schema.String {
			l.errorf(l.aux[n].fieldPos, CodeType, "%s: field %q is %s: %s compares int, float or string fields", what, field, t, n.Kind)
			return false
		}
	}
	return true
}

// fieldPath follows a field path (record fields, tuple positions) into t. A path through
// `any` is `any`.
func fieldPath(t *schema.Type, path []string) (*schema.Type, error) {
	for i, step := range path {
		at := fmt.Sprintf("the input type %s", t)
		if i > 0 {
			at = fmt.Sprintf("%q, of type %s,", strings.Join(path[:i], "."), t)
		}
		switch t.Kind {
		case schema.Any:
			return t, nil
		case schema.Record:
			f, ok := recordField(t, step)
			if !ok {
				names := make([]string, len(t.Fields))
				for i, f := range t.Fields {
					names[i] = f.Name
				}
				msg := fmt.Sprintf("%s has no field %q", at, step)
				if s := suggest.Closest(step, names, 0); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return nil, errors.New(msg)
			}
			t = f
		case schema.Tuple:
			pos, err := strconv.Atoi(step)
			if err != nil || pos < 0 || pos >= len(t.Elems) {
				return nil, fmt.Errorf("%s has no position %s (positions 0 to %d)", at, step, len(t.Elems)-1)
			}
			t = t.Elems[pos]
		case schema.Optional:
			return nil, fmt.Errorf("%s is optional: a path cannot go through it", at)
		default:
			return nil, fmt.Errorf("%s has no fields", at)
		}
	}
	return t, nil
}

// recordField finds a field of a record by name.
func recordField(t *schema.Type, name string) (*schema.Type, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type, true
		}
	}
	return nil, false
}
