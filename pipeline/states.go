package pipeline

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/schema"
)

// Names of the internal states (docs/pipelines.md, Operators).
const (
	StateReduce   = "reduce"   // reduce: the running value (the input type)
	StateAcc      = "acc"      // aggregate: the accumulator
	StateAgg      = "agg"      // sum, min, max, min_by, max_by: the running record (input type)
	StateContents = "contents" // window, window_all: per window, the records, the reduced value or the accumulator
	StateLeft     = "left"     // window_join, co_group: the left records of a window
	StateRight    = "right"    // window_join, co_group: the right records of a window
	StateTimers   = "timers"   // process and the windowed kinds: the pending timers
)

// Types the model builds itself.
var (
	intType    = &schema.Type{Kind: schema.Int}
	stringType = &schema.Type{Kind: schema.String}
	// TimersType is the schema of the internal `timers` state of process and the windowed
	// kinds: per key, the pending event-time and processing-time timers (epoch milliseconds).
	TimersType = &schema.Type{Kind: schema.Record, Fields: []schema.Field{
		{Name: "event", Type: listOf(intType)},
		{Name: "processing", Type: listOf(intType)},
	}}
)

func listOf(t *schema.Type) *schema.Type { return &schema.Type{Kind: schema.List, Elem: t} }

var stateDeclKeys = []string{"type", "kind", "map_key", "ttl", "migrate", "migrate_from"}

// processStates reads `states:` of a process: name -> declaration.
func (l *loader) processStates(node *Node, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		l.errorf(posOf(n), CodeState, "states must be a mapping of name: declaration, got %s", describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case seen[k.Value]:
			l.errorf(posOf(k), CodeDuplicate, "duplicate state %q", k.Value)
			continue
		case !identRE.MatchString(k.Value):
			l.errorf(posOf(k), CodeState, "state name %q must be an identifier (it is read as ctx.state.NAME)", k.Value)
		case k.Value == StateTimers:
			l.errorf(posOf(k), CodeState, "state name %q is reserved for the operator's timers", k.Value)
		}
		seen[k.Value] = true
		if d := l.stateDecl(node, k.Value, v, posOf(k)); d != nil {
			node.States = append(node.States, d)
		}
	}
}

// stateDecl reads one state declaration: a type shorthand (an expression or a sequence for a
// tuple) or a mapping {type, kind, map_key, ttl, migrate, migrate_from}.
func (l *loader) stateDecl(node *Node, name string, n *yaml.Node, pos Pos) *StateDesc {
	what := fmt.Sprintf("state %q of %q", name, node.UID)
	d := &StateDesc{Name: name, Kind: StateValue, Pos: pos}
	if n.Kind != yaml.MappingNode {
		d.Type = l.typ(n, what)
		return d.complete()
	}
	if !hasAnyKey(n, stateDeclKeys) {
		l.errorf(posOf(n), CodeState, "%s: a mapping here is a declaration {type, kind, map_key, ttl, migrate, migrate_from}; a record state type goes under type: (type: {active: bool}) or in a quoted expression (\"{active: bool}\")", what)
		return nil
	}
	m := l.fields(n, what, stateDeclKeys, nil)
	l.require(m, posOf(n), what, "type")
	if e, ok := m["type"]; ok {
		d.Type = l.typ(e.val, what)
	}
	if e, ok := m["kind"]; ok {
		d.Kind = StateKind(l.oneOf(e.val, what+": kind", "value", "list", "map"))
	}
	if e, ok := m["map_key"]; ok {
		if d.Kind != StateMap {
			l.errorf(posOf(e.key), CodeState, "%s: map_key is for kind: map", what)
		}
		switch l.oneOf(e.val, what+": map_key", "string", "int") {
		case "int":
			d.MapKey = intType
		case "string":
			d.MapKey = stringType
		}
	}
	if d.Kind == StateMap && d.MapKey == nil {
		d.MapKey = stringType
	}
	if e, ok := m["ttl"]; ok {
		d.TTL = l.duration(e.val, what+": ttl", false)
	}
	if e, ok := m["migrate"]; ok {
		d.Migrate = l.fn(e.val, fmt.Sprintf("%s.states.%s.migrate", node.UID, name))
	}
	if e, ok := m["migrate_from"]; ok {
		d.MigrateFrom = l.str(e.val, what+": migrate_from")
		if d.MigrateFrom == name {
			l.errorf(posOf(e.val), CodeState, "%s: migrate_from names the state itself", what)
		}
	}
	return d.complete()
}

// hasAnyKey reports whether mapping n has one of keys.
func hasAnyKey(n *yaml.Node, keys []string) bool {
	for i := 0; i < len(n.Content); i += 2 {
		for _, k := range keys {
			if n.Content[i].Value == k {
				return true
			}
		}
	}
	return false
}

// complete sets Schema from Kind, Type and MapKey; nil when the type is unknown.
func (d *StateDesc) complete() *StateDesc {
	switch {
	case d.Type == nil || d.Kind == "":
		return nil
	case d.Kind == StateList:
		d.Schema = listOf(d.Type)
	case d.Kind == StateMap:
		d.Schema = &schema.Type{Kind: schema.Map, Key: d.MapKey, Elem: d.Type}
	default:
		d.Schema = d.Type
	}
	return d
}

// internal is an internal state of schema t.
func internal(name string, t *schema.Type, pos Pos) *StateDesc {
	return &StateDesc{Name: name, Kind: StateInternal, Type: t, Schema: t, Pos: pos}
}

// internalStates appends the internal states of a node whose input types are known, as its
// kind declares them (OpSpec.States): what reduce, aggregate, the aggregations, windows and
// joins keep, and the timers of the windowed kinds and of a process with on_timer.
func internalStates(n *Node) {
	for _, s := range n.Op().States {
		if t, pos := s.of(n); t != nil {
			n.States = append(n.States, internal(s.Name, t, pos))
		}
	}
}
