package compat

import (
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// evolve judges one state of the new pipeline against the old state it restores from (its
// own name, or the state its migrate_from names); prefix starts the reason.
func (c *checker) evolve(n *pipeline.Node, s *pipeline.StateDesc, src *savepoints.StateMeta, prefix string) {
	r := Result{UID: n.UID, State: s.Name, OldSchema: src.Schema, NewSchema: typeString(s.Schema)}
	oldT, err := schema.Parse(src.Schema)
	if err != nil {
		r.Verdict, r.Rule = schema.Incompatible, schema.RuleTypeChanged
		r.Reason = fmt.Sprintf("%sthe stored schema %q does not parse (%v): the old side "+
			"comes from a newer pipectl or its metadata is damaged", prefix, src.Schema, err)
		c.add(r, statePos(n, s))
		return
	}
	ev := schema.Evolve(oldT, s.Schema)
	switch {
	case s.Migrate != nil && !oldT.Equal(s.Schema):
		r.Verdict, r.Rule = schema.CompatibleAfterMigration, schema.RuleMigrateFunction
		r.Reason = prefix + migrateReason(src.Schema, r.NewSchema, s, ev)
		if oldT.Kind == schema.Any {
			r.Severity = SeverityWarning
		}
	default:
		r.Verdict, r.Rule = ev.Verdict, ev.Rule
		r.Reason = prefix + evolutionReason(src.Schema, s, n, ev)
		if ev.Verdict != schema.Incompatible && hasWarning(ev) {
			r.Severity = SeverityWarning
		}
	}
	c.add(r, statePos(n, s))
}

func hasWarning(ev schema.Evolution) bool {
	for _, f := range ev.Findings {
		if f.Warning {
			return true
		}
	}
	return false
}

// evolutionReason is the reason of the worst finding, with the other findings that are not
// compatible named after it, so that one line tells every change the restore has to make.
// schema's messages read "what changed; the fix": an operator's internal state cannot declare
// a migrate function, so for it the fix is replaced by what can be done.
func evolutionReason(oldSchema string, s *pipeline.StateDesc, n *pipeline.Node, ev schema.Evolution) string {
	if ev.Rule == schema.RuleStateUnchanged || ev.Reason == "" {
		return "schema " + oldSchema + " unchanged"
	}
	reason := ev.Reason
	switch what, fix, _ := strings.Cut(reason, "; "); {
	case ev.Verdict != schema.Incompatible:
	case s.Kind == pipeline.StateInternal:
		reason = what + "; fix: " + internalFix(n, s)
	case strings.HasSuffix(fix, "or restore with --allow-non-restored-state"):
		reason = what + "; " + userStateFix
	}
	var more []string
	for _, f := range ev.Findings {
		mentioned := f.Path != "$" && strings.Contains(ev.Reason, f.Path)
		if f.Message != ev.Reason && !mentioned && (f.Verdict != schema.Compatible || f.Warning) {
			more = append(more, string(f.Rule)+" at "+f.Path)
		}
	}
	if len(more) > 0 {
		reason += " (also " + strings.Join(more, ", ") + ")"
	}
	return reason
}

// migrateReason explains a verdict decided by a migrate function, and what the rules alone
// would have said.
func migrateReason(oldSchema, newSchema string, s *pipeline.StateDesc, ev schema.Evolution) string {
	at := ""
	if s.Migrate.Pos.Line > 0 {
		at = fmt.Sprintf(" (line %d)", s.Migrate.Pos.Line)
	}
	reason := fmt.Sprintf("schema changes from %s to %s; the migrate function%s rewrites every "+
		"entry on restore", oldSchema, newSchema, at)
	if ev.Verdict == schema.Incompatible {
		reason += fmt.Sprintf(" (without it: %s)", ev.Rule)
	}
	return reason + "; `check-compat --verify-state` runs it over a savepoint's entries first"
}

// userStateFix is the fix to an incompatible change of a declared state's type. The flag alone
// is no fix: it lets a restore drop a state that the new pipeline no longer declares, never
// one whose type changed, so it comes with a new name.
const userStateFix = "declare a migrate function, keep the old state as it is and add a new one " +
	"that you fill lazily, or rename the state and restore with --allow-non-restored-state (the " +
	"renamed state starts empty)"

// internalFix is the fix to an incompatible change of an operator's internal state, which
// follows from the types that reach the operator (or an aggregate's accumulator).
func internalFix(n *pipeline.Node, s *pipeline.StateDesc) string {
	restart := "or give the operator a new uid and restore with --allow-non-restored-state " +
		"(its state starts empty)"
	switch n.OpKind() {
	case pipeline.OpAggregate:
		return fmt.Sprintf("aggregate keeps its accumulator as state %s: keep `accumulator:` "+
			"compatible with the old one (add fields as optional), %s", s.Name, restart)
	case pipeline.OpWindowJoin, pipeline.OpCoGroup:
		return fmt.Sprintf("%s keeps the records of its inputs as states left and right: keep "+
			"the types that reach %s compatible (add fields as optional, reshape records after "+
			"it), %s", n.Kind, n.UID, restart)
	}
	return fmt.Sprintf("%s keeps its input records as state %s: keep the type that reaches %s "+
		"compatible (add fields as optional, reshape records after it), %s",
		n.Kind, s.Name, n.UID, restart)
}
