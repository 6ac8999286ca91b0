package compat

import (
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// evolve judges one state of the new pipeline against the old state it restores from (its
// own name, or the state its migrate_from names when from is set).
func (c *checker) evolve(n *pipeline.Node, s *pipeline.StateDesc, src *savepoints.StateMeta, from bool) {
	r := Result{UID: n.UID, State: s.Name, OldSchema: src.Schema, NewSchema: typeString(s.Schema)}
	prefix := ""
	if from {
		prefix = fmt.Sprintf("takes the entries of state %s (migrate_from): ", src.Name)
	}
	oldT, err := schema.Parse(src.Schema)
	if err != nil {
		r.Verdict, r.Rule = VerdictIncompatible, "TYPE_CHANGED"
		r.Reason = fmt.Sprintf("%sthe stored schema %q does not parse (%v); fix: restore it "+
			"with the pipectl version that wrote it", prefix, src.Schema, err)
		c.add(r, statePos(n, s))
		return
	}
	ev := schema.Evolve(oldT, s.Schema)
	switch {
	case s.Migrate != nil && !oldT.Equal(s.Schema):
		r.Verdict, r.Rule = VerdictAfterMigration, RuleMigrateFunction
		r.Reason = prefix + migrateReason(src.Schema, r.NewSchema, s, ev)
		if oldT.Kind == schema.Any {
			r.Severity = SeverityWarning
		}
	default:
		r.Verdict, r.Rule = verdictOf(ev.Verdict), ev.Rule
		r.Reason = prefix + evolutionReason(src.Schema, ev)
		switch {
		case ev.Verdict == schema.Incompatible:
			r.Reason += "; fix: " + fixFor(n, s)
		case hasWarning(ev):
			r.Severity = SeverityWarning
		}
	}
	c.add(r, statePos(n, s))
}

func verdictOf(v schema.Verdict) Verdict {
	switch v {
	case schema.Compatible:
		return VerdictCompatible
	case schema.CompatibleAfterMigration:
		return VerdictAfterMigration
	}
	return VerdictIncompatible
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
func evolutionReason(oldSchema string, ev schema.Evolution) string {
	if ev.Rule == RuleStateUnchanged || ev.Reason == "" {
		return "schema " + oldSchema + " unchanged"
	}
	var more []string
	for _, f := range ev.Findings {
		if f.Message != ev.Reason && (f.Verdict != schema.Compatible || f.Warning) {
			more = append(more, f.Rule+" at "+f.Path)
		}
	}
	if len(more) == 0 {
		return ev.Reason
	}
	return ev.Reason + " (also " + strings.Join(more, ", ") + ")"
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

// fixFor is the fix to an incompatible change of state s, which depends on who declares it.
func fixFor(n *pipeline.Node, s *pipeline.StateDesc) string {
	restart := "give the operator a new uid and restore with --allow-non-restored-state " +
		"(its state starts empty)"
	switch {
	case s.Kind == pipeline.StateInternal && n.Kind == "aggregate":
		return fmt.Sprintf("keep the aggregate's `accumulator:` as it was, or %s", restart)
	case s.Kind == pipeline.StateInternal:
		return fmt.Sprintf("%s keeps its input as state %s, so keep the type of the records "+
			"that reach %s (change them after it instead), or %s", n.Kind, s.Name, n.UID, restart)
	case n.Kind == "flat_map_with_state":
		return fmt.Sprintf("declare `state: {type: %q, migrate: old => …}` to convert each "+
			"stored entry, or %s", typeString(s.Schema), restart)
	}
	return fmt.Sprintf("add `migrate: old => …` to state %s, or keep %s as it was and add a "+
		"second state of the new type that fn migrates lazily (or that takes its entries with "+
		"`migrate_from: %s` and a migrate function), or rename it and restore with "+
		"--allow-non-restored-state (it starts empty)", s.Name, s.Name, s.Name)
}
