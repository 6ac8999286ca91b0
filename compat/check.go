package compat

import (
	"fmt"
	"slices"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// Options tune Check.
type Options struct {
	// AllowNonRestoredState turns dropped state from an error into a warning
	// (--allow-non-restored-state): the restore then skips it.
	AllowNonRestoredState bool
}

// Check compares the old side's state (a savepoint's metadata, or Describe of the old
// pipeline) with the new pipeline and returns one result per uid and state of the old side,
// one per uid or state that is new, and job-level results (max_parallelism). Results follow
// the new file's order of uids; uids that the new pipeline lacks come last, in the old order.
func Check(old *savepoints.Metadata, p *pipeline.Pipeline, opts Options) *Report {
	c := &checker{opts: opts, p: p}
	if old.ID == "" { // no savepoint's id: Describe of the old pipeline, whose file it carries
		c.oldFile = []byte(old.PipelineYAML)
	}
	c.maxParallelism(old.MaxParallelism)
	oldOps := make(map[string]*savepoints.OperatorMeta, len(old.Operators))
	for i := range old.Operators {
		oldOps[old.Operators[i].UID] = &old.Operators[i]
	}
	seen := make(map[string]bool, len(oldOps))
	take := p.TakeOver(func(uid string) bool { return oldOps[uid] != nil })
	for _, n := range fileOrder(p) {
		stored, ok := take.Stored[n]
		if !ok {
			c.newNode(n)
			continue
		}
		seen[stored] = true
		first := len(c.results)
		c.node(oldOps[stored], n)
		for i := first; i < len(c.results); i++ {
			c.results[i].RenamedFrom = take.RenamedFrom(n)
		}
	}
	for i := range old.Operators {
		if op := &old.Operators[i]; !seen[op.UID] {
			c.removed(op, take)
		}
	}
	rep := &Report{Compatible: true, Results: c.results}
	for _, r := range c.results {
		if r.Severity == SeverityError {
			rep.Compatible = false
		}
	}
	if rep.Results == nil {
		rep.Results = []Result{}
	}
	return rep
}

// checker accumulates the results of one Check.
type checker struct {
	opts Options
	p    *pipeline.Pipeline
	// oldFile is the old pipeline's file when the old side is a pipeline, not a savepoint:
	// what its sources read stands in for the offsets that only a savepoint stores.
	oldFile []byte
	results []Result
}

// add appends r located at pos of the new file (no position when pos is zero).
func (c *checker) add(r Result, pos pipeline.Pos) {
	r.File = c.p.File
	r.Line, r.Column = pos.Line, pos.Col
	if r.Severity == "" {
		r.Severity = severityOf(r.Verdict)
	}
	c.results = append(c.results, r)
}

// severityOf is the default severity of a verdict; dropped state is an error unless
// --allow-non-restored-state, which Check handles where it decides the verdict.
func severityOf(v schema.Verdict) Severity {
	switch v {
	case schema.Incompatible, schema.Dropped:
		return SeverityError
	}
	return SeverityNote
}

func (c *checker) maxParallelism(old int) {
	if old == 0 || old == c.p.MaxParallelism {
		return
	}
	c.add(Result{
		Verdict: schema.Incompatible,
		Rule:    schema.RuleMaxParallelismChanged,
		Reason: fmt.Sprintf("max_parallelism changes from %d to %d: keyed state is split into "+
			"max_parallelism key groups, fixed for the life of the state; fix: set "+
			"max_parallelism: %d again (parallelism may change freely up to it)",
			old, c.p.MaxParallelism, old),
	}, topLevelKeyPos(c.p.Raw, "max_parallelism"))
}

// newNode reports a uid that the old side lacks: each of its states starts empty.
func (c *checker) newNode(n *pipeline.Node) {
	if len(n.States) == 0 {
		c.add(Result{UID: n.UID, Verdict: schema.New, Rule: schema.RuleStateNew,
			Reason: fmt.Sprintf("new %s, stateless: nothing to restore", n.Kind)}, n.Pos)
		return
	}
	for _, s := range n.States {
		c.newState(n, s, fmt.Sprintf("new %s %s: state %s of type %s starts empty",
			n.Kind, n.UID, s.Name, typeString(s.Schema)))
	}
}

func (c *checker) newState(n *pipeline.Node, s *pipeline.StateDesc, reason string) {
	c.add(Result{UID: n.UID, State: s.Name, Verdict: schema.New, Rule: schema.RuleStateNew,
		NewSchema: typeString(s.Schema), Reason: reason}, statePos(n, s))
}

// removed reports a uid of the old side that the new pipeline lacks.
func (c *checker) removed(op *savepoints.OperatorMeta, take pipeline.Takeover) {
	if len(op.States) == 0 && (len(op.Offsets) > 0 || c.oldStoresPosition(op)) {
		c.removedPosition(op)
		return
	}
	gone := "is not in the new pipeline"
	var pos pipeline.Pos // a uid nothing in the new file names has no position
	if n := c.claimant(op.UID); n != nil {
		gone = fmt.Sprintf("is listed in the previous_uids of %s, which takes over %s", n.UID, take.Stored[n])
		pos = n.Keys["previous_uids"]
	}
	if len(op.States) == 0 {
		c.add(Result{UID: op.UID, Verdict: schema.Compatible, Rule: schema.RuleStateUnchanged,
			Reason: fmt.Sprintf("removed %s, stateless: no state is lost", op.Kind)}, pos)
		return
	}
	for i := range op.States {
		s := &op.States[i]
		what := fmt.Sprintf("%s %s %s: its state %s of type %s",
			op.Kind, op.UID, gone, s.Name, s.Schema)
		c.dropped(op.UID, s, pos, what, "keep the operator under uid "+op.UID)
	}
}

// claimant is the node that lists uid in its previous_uids, or nil.
func (c *checker) claimant(uid string) *pipeline.Node {
	for _, n := range c.p.Nodes {
		if slices.Contains(n.PreviousUIDs, uid) {
			return n
		}
	}
	return nil
}

// dropped reports old state that nothing in the new pipeline restores.
func (c *checker) dropped(uid string, s *savepoints.StateMeta, pos pipeline.Pos, what, keep string) {
	r := Result{UID: uid, State: s.Name, Verdict: schema.Dropped, Rule: schema.RuleStateDropped,
		OldSchema: s.Schema}
	if c.opts.AllowNonRestoredState {
		r.Severity = SeverityWarning
		r.Reason = what + " is dropped on restore (--allow-non-restored-state)"
	} else {
		r.Reason = what + " would not be restored, so the restore fails; fix: " + keep +
			", or pass --allow-non-restored-state to drop it"
	}
	c.add(r, pos)
}

// node compares a uid present on both sides.
func (c *checker) node(op *savepoints.OperatorMeta, n *pipeline.Node) {
	if c.position(op, n) {
		return
	}
	switch {
	case len(op.States) == 0 && len(n.States) == 0:
		reason := fmt.Sprintf("stateless %s: nothing to restore", n.Kind)
		switch {
		case n.Role == pipeline.RoleSource && op.Kind == n.Kind:
			reason = fmt.Sprintf("%s source: no keyed state; its read position is restored", n.Kind)
		case n.Role == pipeline.RoleSink && n.Kind == "file" && op.Kind == n.Kind:
			reason = "file sink: no keyed state; the file is cut back to its committed length"
		case op.Kind != n.Kind:
			reason = fmt.Sprintf("stateless before (%s) and now (%s): nothing to restore",
				op.Kind, n.Kind)
		}
		c.add(Result{UID: n.UID, Verdict: schema.Compatible, Rule: schema.RuleStateUnchanged,
			Reason: reason}, n.Pos)
	case len(op.States) == 0:
		for _, s := range n.States {
			c.newState(n, s, fmt.Sprintf("new state %s of type %s: starts empty (%s was a "+
				"stateless %s)", s.Name, typeString(s.Schema), n.UID, op.Kind))
		}
	case op.Kind != n.Kind:
		c.kindChanged(op, n)
	default:
		c.states(op, n)
	}
}

// kindChanged reports every state of a uid whose operator kind changed.
func (c *checker) kindChanged(op *savepoints.OperatorMeta, n *pipeline.Node) {
	reason := func(name string) string {
		return fmt.Sprintf("%s was a %s and is now a %s: its state %s cannot be restored "+
			"into another kind of operator; fix: keep kind %s under uid %s, or give the %s "+
			"a new uid and restore with --allow-non-restored-state (its state starts empty)",
			n.UID, op.Kind, n.Kind, name, op.Kind, n.UID, n.Kind)
	}
	old := oldStates(op)
	for _, s := range n.States {
		os, ok := old[s.Name]
		if !ok {
			c.newState(n, s, fmt.Sprintf("new state %s of type %s: starts empty",
				s.Name, typeString(s.Schema)))
			continue
		}
		delete(old, s.Name)
		c.add(Result{UID: n.UID, State: s.Name, Verdict: schema.Incompatible,
			Rule: schema.RuleOperatorKindChanged, OldSchema: os.Schema,
			NewSchema: typeString(s.Schema), Reason: reason(s.Name)}, keyPos(n, "kind"))
	}
	for i := range op.States {
		if os := &op.States[i]; old[os.Name] != nil {
			c.add(Result{UID: n.UID, State: os.Name, Verdict: schema.Incompatible,
				Rule: schema.RuleOperatorKindChanged, OldSchema: os.Schema, Reason: reason(os.Name)},
				keyPos(n, "kind"))
		}
	}
}

func oldStates(op *savepoints.OperatorMeta) map[string]*savepoints.StateMeta {
	m := make(map[string]*savepoints.StateMeta, len(op.States))
	for i := range op.States {
		m[op.States[i].Name] = &op.States[i]
	}
	return m
}

// states compares the states of a uid whose operator kind is unchanged: each new state with
// the old state of its name (or the one its migrate_from names), then the old states that no
// new state restores.
func (c *checker) states(op *savepoints.OperatorMeta, n *pipeline.Node) {
	old := oldStates(op)
	restored := make(map[string]bool, len(old))
	for _, s := range n.States {
		src, from := migrateSource(old, s)
		if src == nil {
			reason := fmt.Sprintf("new state %s of type %s: starts empty",
				s.Name, typeString(s.Schema))
			if s.MigrateFrom != "" {
				reason = fmt.Sprintf("migrate_from: %s names no state of %s on the old side: "+
					"state %s of type %s starts empty", s.MigrateFrom, n.UID, s.Name,
					typeString(s.Schema))
			}
			c.newState(n, s, reason)
			continue
		}
		restored[src.Name] = true
		prefix := ""
		if from {
			prefix = fmt.Sprintf("takes the entries of state %s (migrate_from): ", src.Name)
			if old[s.Name] != nil {
				restored[s.Name] = true
				prefix = fmt.Sprintf("takes the entries of state %s (migrate_from) besides "+
					"its own old entries: ", src.Name)
			}
		}
		// Keys are compared at the operator's level: a state's own key_type may be wider (a
		// window's per-window states are keyed by (key, start, end)).
		if oldKey, newKey := op.KeyType, typeString(n.KeyType()); !sameType(oldKey, newKey) {
			c.keyTypeChanged(n, s, src, oldKey, newKey)
			continue
		}
		c.evolve(n, s, src, prefix)
	}
	for i := range op.States {
		if s := &op.States[i]; !restored[s.Name] {
			c.dropped(n.UID, s, n.Pos,
				fmt.Sprintf("state %s of type %s is not declared in the new pipeline: it",
					s.Name, s.Schema),
				fmt.Sprintf("keep its declaration, or move its entries into a new state with "+
					"`migrate_from: %s`", s.Name))
		}
	}
}

// migrateSource is the old state that new state s restores from: the one its migrate_from
// names while the old side still has it, else the old state of its own name (a later upgrade
// that kept the migrate_from), else nil. from reports the first case.
func migrateSource(old map[string]*savepoints.StateMeta, s *pipeline.StateDesc) (src *savepoints.StateMeta, from bool) {
	if s.MigrateFrom != "" && s.MigrateFrom != s.Name && old[s.MigrateFrom] != nil {
		return old[s.MigrateFrom], true
	}
	return old[s.Name], false
}

// sameType compares two canonical type expressions, tolerating non-canonical spelling.
func sameType(a, b string) bool {
	if a == b {
		return true
	}
	ta, errA := schema.Parse(a)
	tb, errB := schema.Parse(b)
	return errA == nil && errB == nil && ta.Equal(tb)
}

func (c *checker) keyTypeChanged(n *pipeline.Node, s *pipeline.StateDesc, src *savepoints.StateMeta, oldKey, newKey string) {
	c.add(Result{UID: n.UID, State: s.Name, Verdict: schema.Incompatible,
		Rule: schema.RuleKeyTypeChanged, OldSchema: src.Schema, NewSchema: typeString(s.Schema),
		Reason: fmt.Sprintf("key type changes from %s to %s: keys never evolve, so no stored "+
			"key would be found again; fix: keep key_by giving keys of type %s, or give the operator "+
			"a new uid and restore with --allow-non-restored-state (its state starts empty)",
			orNone(oldKey), orNone(newKey), orNone(oldKey)),
	}, keyTypePos(n))
}

func orNone(t string) string {
	if t == "" {
		return "none"
	}
	return t
}
