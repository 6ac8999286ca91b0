package pipeline

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/internal/suggest"
	"github.com/pipectl/pipectl/schema"
)

// roleInfo is what differs between sources, operators and sinks when reading items.
type roleInfo struct {
	name   string
	common []string
	kinds  map[string]kindSpec
}

var roles = map[Role]roleInfo{
	RoleSource:   {"source", sourceCommon, sourceKinds},
	RoleOperator: {"operator", operatorCommon, operatorKinds},
	RoleSink:     {"sink", sinkCommon, sinkKinds},
}

// aux is what the loader knows of a node beyond the model.
type aux struct {
	inputPos    []Pos        // position of each input, in Inputs order
	keyType     *schema.Type // declared key_type, nil when absent
	keyTypePos  Pos
	fieldPos    Pos   // position of the value of `field:`
	broken      bool  // unknown kind: its keys and types are not checked
	index       int   // declaration order
	previousPos []Pos // position of each previous uid, in PreviousUIDs order
}

// item reads one source, operator or sink.
func (l *loader) item(n *yaml.Node, role Role) {
	ri := roles[role]
	if n.Kind != yaml.MappingNode {
		l.errorf(posOf(n), CodeValue, "each %s must be a mapping (uid: ..., kind: ...), got %s", ri.name, describe(n))
		return
	}
	node := &Node{Role: role, Pos: posOf(n), Keys: map[string]Pos{}, Format: "jsonl"}
	a := &aux{}
	raw := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if _, seen := raw[n.Content[i].Value]; !seen {
			raw[n.Content[i].Value] = n.Content[i+1]
			node.Keys[n.Content[i].Value] = posOf(n.Content[i])
		}
	}
	what := ri.name
	if v, ok := raw["uid"]; ok {
		node.UID = l.str(v, "uid")
		if node.UID != "" && !uidRE.MatchString(node.UID) {
			l.errorf(posOf(v), CodeUID, "uid %q may only hold A-Z, a-z, 0-9, '.', '_' and '-'", node.UID)
		}
		what = fmt.Sprintf("%s %q", ri.name, node.UID)
	}
	spec, known := l.kind(node, raw["kind"], ri, what)
	if !known {
		a.broken = true
		l.inputs(node, a, raw["input"], raw["inputs"], TwoOrMore)
		l.register(node, a, raw["uid"])
		return
	}
	m := l.fields(n, fmt.Sprintf("%s (kind %s)", what, node.Kind), allowedKeys(ri.common, spec), everyKey(ri.common, ri.kinds))
	l.require(m, node.Pos, what, append([]string{"uid", "kind"}, spec.required...)...)
	node.FunctionTimeout = l.p.FunctionTimeout
	node.Parallelism = 1
	if e, ok := m["parallelism"]; ok {
		node.Parallelism = max(1, int(l.integer(e.val, what+": parallelism", 1, int64(l.p.MaxParallelism))))
	} else if role == RoleOperator && !node.Op().OneSubtask {
		node.Parallelism = l.p.Parallelism
	}
	l.previousUIDs(node, a, m, what)
	switch role {
	case RoleSource:
		l.source(node, m, what)
	case RoleOperator:
		l.operator(node, a, m, what)
	case RoleSink:
		l.sink(node, a, m, what)
	}
	l.register(node, a, raw["uid"])
}

// oneSubtask runs a connector kind that can only run as one subtask (stdin, the file sink) at
// parallelism 1, with a warning when the file asked for more.
func (l *loader) oneSubtask(node *Node, spec connectors.Spec, m map[string]entry, what string) {
	if spec.OneSubtask != "" && node.Parallelism > 1 {
		l.warnf(posOf(m["parallelism"].val), CodeValue, "%s: runs at parallelism 1, not %d: %s", what, node.Parallelism, spec.OneSubtask)
		node.Parallelism = 1
	}
}

// kind reads an item's kind; it reports a missing or unknown one.
func (l *loader) kind(node *Node, n *yaml.Node, ri roleInfo, what string) (kindSpec, bool) {
	if n == nil {
		l.errorf(node.Pos, CodeMissingKey, "%s: missing required key \"kind\"", what)
		return kindSpec{}, false
	}
	node.Kind = l.str(n, what+": kind")
	spec, ok := ri.kinds[node.Kind]
	if !ok && node.Kind != "" {
		msg := fmt.Sprintf("%s: unknown %s kind %q", what, ri.name, node.Kind)
		if s := suggest.Closest(node.Kind, kindNames(ri.kinds), 0); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += fmt.Sprintf(" (kinds: %s)", strings.Join(kindNames(ri.kinds), ", "))
		}
		l.errorf(posOf(n), CodeKind, "%s", msg)
	}
	return spec, ok
}

// register adds a node under its uid, reporting a duplicate.
func (l *loader) register(node *Node, a *aux, uidNode *yaml.Node) {
	if node.UID == "" {
		return
	}
	if prev, dup := l.p.Nodes[node.UID]; dup {
		l.errorf(posOf(uidNode), CodeUID, "duplicate uid %q (first used at line %d)", node.UID, prev.Pos.Line)
		return
	}
	a.index = len(l.aux)
	l.aux[node] = a
	l.p.Nodes[node.UID] = node
	switch node.Role {
	case RoleSource:
		l.p.Sources = append(l.p.Sources, node)
	case RoleOperator:
		l.p.Operators = append(l.p.Operators, node)
	case RoleSink:
		l.p.Sinks = append(l.p.Sinks, node)
	}
}

// inputs reads `input: UID` (single) or `inputs: [UID, ...]`; want is the number of inputs
// the kind takes with `inputs:` (TwoOrMore: two or more).
func (l *loader) inputs(node *Node, a *aux, input, inputs *yaml.Node, want int) {
	if input != nil {
		if s := l.str(input, "input"); s != "" {
			node.Inputs, a.inputPos = []string{s}, []Pos{posOf(input)}
		}
	}
	if inputs == nil {
		return
	}
	if inputs.Kind != yaml.SequenceNode {
		l.errorf(posOf(inputs), CodeValue, "inputs must be a sequence of uids, got %s", describe(inputs))
		return
	}
	for _, in := range inputs.Content {
		if s := l.str(in, "input"); s != "" {
			node.Inputs = append(node.Inputs, s)
			a.inputPos = append(a.inputPos, posOf(in))
		}
	}
	switch n := len(inputs.Content); {
	case want == TwoOrMore && n < 2:
		l.errorf(posOf(inputs), CodeValue, "inputs must name two or more uids, got %d", n)
	case want != TwoOrMore && n != want:
		l.errorf(posOf(inputs), CodeValue, "inputs must name exactly %d uids [left, right], got %d", want, n)
	}
}

// errorPolicy reads on_error and dead_letter.
func (l *loader) errorPolicy(node *Node, m map[string]entry, what string) {
	node.OnError = "fail"
	if e, ok := m["on_error"]; ok {
		node.OnError = l.oneOf(e.val, what+": on_error", "fail", "skip", "dead_letter")
	}
	e, hasDL := m["dead_letter"]
	if hasDL {
		if p := l.str(e.val, what+": dead_letter"); p != "" {
			node.DeadLetter = l.resolvePath(p)
		}
	}
	switch {
	case node.OnError == "dead_letter" && !hasDL:
		l.errorf(node.Keys["on_error"], CodeMissingKey, "%s: on_error: dead_letter needs dead_letter: PATH (the JSONL file to write)", what)
	case hasDL && node.OnError != "dead_letter" && node.OnError != "":
		l.errorf(posOf(e.key), CodeValue, "%s: dead_letter is set but on_error is %q: write on_error: dead_letter", what, node.OnError)
	}
}

// typ reads a type node, reporting its errors.
func (l *loader) typ(n *yaml.Node, what string) *schema.Type {
	if l.split[n] {
		return nil
	}
	t, err := schema.FromNode(n)
	if err != nil {
		if pe, ok := err.(*schema.PosError); ok {
			l.errorf(Pos{pe.Line, pe.Col}, CodeType, "%s: %s", what, pe.Msg)
		} else {
			l.errorf(posOf(n), CodeType, "%s: %v", what, err)
		}
		return nil
	}
	return t
}

// sink reads a sink's keys.
func (l *loader) sink(node *Node, a *aux, m map[string]entry, what string) {
	if e, ok := m["input"]; ok {
		l.inputs(node, a, e.val, nil, 1)
	}
	if e, ok := m["buffer_timeout"]; ok {
		node.BufferTimeout = l.duration(e.val, what+": buffer_timeout", false)
	}
	spec, _ := connectors.Lookup(connectors.RoleSink, node.Kind)
	l.options(node, spec, m, what)
	l.oneSubtask(node, spec, m, what)
	node.Format = node.Options.String("format", node.Format)
	node.Path = node.Options.String("path", "")
	l.kafkaSink(node, what)
}
