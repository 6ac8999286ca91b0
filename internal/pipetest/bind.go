package pipetest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/internal/suggest"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
)

// boundTest is a test whose records and values were checked against the pipeline's types:
// canonical values, ready to feed and compare.
type boundTest struct {
	*Test
	steps  []boundStep
	state  []boundEntry
	output []boundSink
	expect []boundEntry
}

// boundStep is a step with its canonical record.
type boundStep struct {
	source  string
	record  any
	advance time.Duration
}

// boundEntry is a state entry with its canonical key and value.
type boundEntry struct {
	node       *pipeline.Node
	desc       *pipeline.StateDesc
	key, value any
}

// boundSink is the expected output of one sink, each record as its JSON line.
type boundSink struct {
	node    *pipeline.Node
	records []string
}

// binder checks the values of one test file against one pipeline.
type binder struct {
	file string
	p    *pipeline.Pipeline
}

// errAt is a type error at node n of the test file.
func (b *binder) errAt(n *yaml.Node, format string, args ...any) error {
	return &PosError{File: b.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// bind checks every record, key and value of t.
func (b *binder) bind(t *Test) (*boundTest, error) {
	bt := &boundTest{Test: t}
	for _, s := range t.Steps {
		if s.Source == "" {
			bt.steps = append(bt.steps, boundStep{advance: s.Advance})
			continue
		}
		n := b.p.Nodes[s.Source]
		if n == nil || n.Role != pipeline.RoleSource {
			return nil, b.errAt(s.At, "input: %q is not a source of the pipeline%s", s.Source, b.hint(s.Source, b.p.Sources))
		}
		if s.Record == nil {
			continue
		}
		v, err := b.value(s.Record, n.Schema, fmt.Sprintf("input of source %q", s.Source))
		if err != nil {
			return nil, err
		}
		bt.steps = append(bt.steps, boundStep{source: s.Source, record: v})
	}
	var err error
	if bt.state, err = b.entries(t.State, "state"); err != nil {
		return nil, err
	}
	if bt.expect, err = b.entries(t.Expect, "expect.state"); err != nil {
		return nil, err
	}
	for _, o := range t.Output {
		n := b.p.Nodes[o.UID]
		if n == nil || n.Role != pipeline.RoleSink {
			return nil, b.errAt(o.At, "expect.output: %q is not a sink of the pipeline%s", o.UID, b.hint(o.UID, b.p.Sinks))
		}
		bs := boundSink{node: n, records: []string{}}
		for _, r := range o.Records {
			v, err := b.value(r, n.InTypes[0], fmt.Sprintf("expected output of sink %q", o.UID))
			if err != nil {
				return nil, err
			}
			line, err := n.InTypes[0].AppendJSON(nil, v)
			if err != nil {
				return nil, b.errAt(r, "expected output of sink %q: %v", o.UID, err)
			}
			bs.records = append(bs.records, string(line))
		}
		bt.output = append(bt.output, bs)
	}
	return bt, nil
}

// entries checks state entries: the uid is a keyed operator that keeps state per key, the
// state is one of its states, key and value have their types.
func (b *binder) entries(es []Entry, what string) ([]boundEntry, error) {
	var out []boundEntry
	for _, e := range es {
		n := b.p.Nodes[e.UID]
		if n == nil || n.Role != pipeline.RoleOperator {
			return nil, b.errAt(e.UIDAt, "%s: %q is not an operator of the pipeline%s", what, e.UID, b.hint(e.UID, b.p.Operators))
		}
		if !n.Keyed() || n.Window != nil {
			return nil, b.errAt(e.UIDAt, "%s: %q (%s) keeps no state per key that a test can set or check", what, e.UID, n.Kind)
		}
		var d *pipeline.StateDesc
		var names []string
		for _, s := range n.States {
			names = append(names, s.Name)
			if s.Name == e.State {
				d = s
			}
		}
		if d == nil {
			return nil, b.errAt(e.StateAt, "%s: %q has no state %q (its states: %s)", what, e.UID, e.State, strings.Join(names, ", "))
		}
		if e.Key == nil {
			continue
		}
		where := fmt.Sprintf("%s of %s.%s", what, e.UID, e.State)
		key, err := b.value(e.Key, n.KeyType(), "key of "+where)
		if err != nil {
			return nil, err
		}
		val, err := b.value(e.Value, d.Schema, "value of "+where)
		if err != nil {
			return nil, err
		}
		out = append(out, boundEntry{node: n, desc: d, key: key, value: val})
	}
	return out, nil
}

// hint suggests the closest uid among nodes, or lists them.
func (b *binder) hint(uid string, nodes []*pipeline.Node) string {
	var uids []string
	for _, n := range nodes {
		uids = append(uids, n.UID)
	}
	if s := suggest.Closest(uid, uids, 0); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Sprintf(" (it has: %s)", strings.Join(uids, ", "))
}

// value converts a YAML value to the canonical value of t. Record fields that t does not
// declare are errors (in a test they are typos), as are values that do not fit; the error
// is at the offending node.
func (b *binder) value(n *yaml.Node, t *schema.Type, what string) (any, error) {
	if err := b.checkFields(n, t, what); err != nil {
		return nil, err
	}
	raw, err := b.generic(n)
	if err != nil {
		return nil, err
	}
	v, err := t.Convert(raw)
	var ve *schema.ValueError
	if errors.As(err, &ve) {
		return nil, b.errAt(nodeAt(n, ve.Path), "%s: %v", what, err)
	}
	if err != nil {
		return nil, b.errAt(n, "%s: %v", what, err)
	}
	return v, nil
}

// checkFields rejects mapping keys that the record types along t do not declare.
func (b *binder) checkFields(n *yaml.Node, t *schema.Type, what string) error {
	n = deref(n)
	switch t.Kind {
	case schema.Optional:
		return b.checkFields(n, t.Elem, what)
	case schema.Record:
		if n.Kind != yaml.MappingNode {
			return nil // Convert says what is wrong
		}
		var names []string
		for _, f := range t.Fields {
			names = append(names, f.Name)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			f := fieldOf(t, k.Value)
			if f == nil {
				msg := fmt.Sprintf("%s: field %q is not in the type %s", what, k.Value, t)
				if s := suggest.Closest(k.Value, names, 0); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return b.errAt(k, "%s", msg)
			}
			if err := b.checkFields(n.Content[i+1], f.Type, what); err != nil {
				return err
			}
		}
	case schema.Tuple:
		if n.Kind == yaml.SequenceNode && len(n.Content) == len(t.Elems) {
			for i, c := range n.Content {
				if err := b.checkFields(c, t.Elems[i], what); err != nil {
					return err
				}
			}
		}
	case schema.List:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				if err := b.checkFields(c, t.Elem, what); err != nil {
					return err
				}
			}
		}
	case schema.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				if err := b.checkFields(n.Content[i], t.Elem, what); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fieldOf(t *schema.Type, name string) *schema.Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// generic turns a YAML value into the JSON-like value schema.Convert takes.
func (b *binder) generic(n *yaml.Node) (any, error) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				return nil, b.errAt(k, "a key must be a scalar, got %s", shape(k))
			}
			v, err := b.generic(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := b.generic(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, nil
		case "!!null":
			return nil, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, b.errAt(n, "%v", err)
		}
		return v, nil
	}
	return nil, nil
}

// pathSeg matches one segment of a schema.ValueError path: .field, [index] or ["key"].
var pathSeg = regexp.MustCompile(`^(?:\.([^.\[]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])`)

// nodeAt returns the node a value path ($.a.b[1]) designates under n, as far as it exists.
func nodeAt(n *yaml.Node, path string) *yaml.Node {
	rest := strings.TrimPrefix(path, "$")
	for rest != "" {
		n = deref(n)
		m := pathSeg.FindStringSubmatch(rest)
		if m == nil {
			return n
		}
		rest = rest[len(m[0]):]
		var next *yaml.Node
		switch {
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i < len(n.Content) {
				next = n.Content[i]
			}
		case n.Kind == yaml.MappingNode:
			name := m[1]
			if m[3] != "" {
				name, _ = strconv.Unquote(m[3])
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					next = n.Content[i+1]
				}
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return deref(n)
}
