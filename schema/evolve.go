package schema

import (
	"fmt"
	"slices"
	"strings"
)

// fixIncompatible is the fix named by an incompatible change that no rule-specific fix covers.
const fixIncompatible = "declare a migrate function, keep the old state under another name and migrate lazily, or restore with --allow-non-restored-state"

// Finding is one difference found between an old and a new type.
type Finding struct {
	Verdict Verdict
	Rule    Rule   // stable rule id, e.g. FIELD_ADDED_OPTIONAL (docs/compat-rules.md)
	Path    string // where in the type: $, $.alarm, $[1]
	Old     string // old type at Path (canonical)
	New     string // new type at Path (canonical)
	Message string // one sentence: what changed, what it means, the fix
	Warning bool   // the finding deserves a warning (data dropped, precision, unchecked any)
}

// Evolution is the result of Evolve: the worst verdict anywhere and every finding.
type Evolution struct {
	Verdict  Verdict
	Rule     Rule      // the rule of the worst finding (STATE_UNCHANGED when identical)
	Reason   string    // the message of the worst finding
	Findings []Finding // all findings, in type order
}

// Evolve applies the evolution rules of docs/compat-rules.md to old -> new, recursively.
//
// Paths name record fields ($.alarm.time), tuple positions ($[1]) and the elements of lists
// and values of maps ($.tags[*]). The worst finding decides (a warning outranks a finding
// of the same verdict without one; then the first in type order). A record's findings come
// in the new type's field order (changed and added fields), then removed fields, then a
// reordering. An `any` anywhere gives an UNTYPED_STATE warning even when nothing changed.
func Evolve(old, new *Type) Evolution {
	var e evolver
	e.walk(old, new, "$", ctxTop, []string{})
	ev := Evolution{Verdict: Compatible, Rule: RuleStateUnchanged, Reason: "the schema is unchanged", Findings: e.findings}
	best := -1
	for _, f := range e.findings {
		rank := f.Verdict.severity() * 2
		if f.Warning {
			rank++
		}
		if rank > best {
			best = rank
			ev.Verdict, ev.Rule, ev.Reason = f.Verdict, f.Rule, f.Message
		}
	}
	return ev
}

// context is where a type sits, which decides the rule of an incompatible change.
type context uint8

const (
	ctxTop   context = iota // the whole state, a list element or a map value: TYPE_CHANGED
	ctxField                // a record field: FIELD_TYPE_CHANGED
	ctxElem                 // a tuple element: TUPLE_CHANGED
)

// evolver collects findings. The walk passes recPath, the field names from the root to the
// current record (nil when the way passes through a tuple, list or map), for writing migrate
// examples.
type evolver struct {
	findings []Finding
}

func (e *evolver) add(v Verdict, rule Rule, path string, old, new *Type, warning bool, format string, args ...any) {
	e.findings = append(e.findings, Finding{
		Verdict: v, Rule: rule, Path: path, Old: typeString(old), New: typeString(new),
		Message: fmt.Sprintf(format, args...), Warning: warning,
	})
}

// typeString is t's canonical form, "" for no type (an added or removed field).
func typeString(t *Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}

func containsAny(t *Type) bool {
	switch t.Kind {
	case Any:
		return true
	case Record:
		for _, f := range t.Fields {
			if containsAny(f.Type) {
				return true
			}
		}
	case Tuple:
		for _, e := range t.Elems {
			if containsAny(e) {
				return true
			}
		}
	case List, Optional:
		return containsAny(t.Elem)
	case Map:
		return containsAny(t.Elem)
	}
	return false
}

func (e *evolver) walk(old, new *Type, path string, ctx context, recPath []string) {
	if old.Equal(new) && !containsAny(old) {
		return
	}
	switch {
	case old.Kind == Any && new.Kind == Any:
		e.add(Compatible, RuleUntypedState, path, old, new, true,
			"%s is any: nothing about its values can be checked; declare its type to have it checked", path)
	case new.Kind == Any:
		e.add(CompatibleAfterMigration, RuleUntypedState, path, old, new, true,
			"%s changes from %s to any: values are kept, but nothing about them can be checked any more", path, old)
	case old.Kind == Any:
		e.add(Incompatible, RuleUntypedState, path, old, new, true,
			"%s changes from any to %s: stored values cannot be checked against %s; declare a migrate function that converts them (and run with --verify-state)", path, new, new)
	case old.Kind == Optional && new.Kind == Optional:
		e.walk(old.Elem, new.Elem, path, ctx, recPath)
	case new.Kind == Optional:
		e.add(CompatibleAfterMigration, RuleMadeOptional, path, old, new, false,
			"%s changes from %s to %s: existing values are kept, the state is rewritten on restore", path, old, new)
		e.walk(old, new.Elem, path, ctx, recPath)
	case old.Kind == Optional:
		e.add(Incompatible, RuleOptionalRemoved, path, old, new, false,
			"%s changes from %s to %s: stored nulls have no %s value; keep it optional, or declare a migrate function that replaces null", path, old, new, new)
		e.walk(old.Elem, new, path, ctx, recPath)
	case old.Kind == Int && new.Kind == Float:
		e.add(CompatibleAfterMigration, RuleTypeWidened, path, old, new, true,
			"%s changes from int to float: values are converted on restore; integers beyond 2^53 would lose precision", path)
	case old.Kind == Float && new.Kind == Int:
		e.add(Incompatible, RuleTypeNarrowed, path, old, new, false,
			"%s changes from float to int: fractions cannot be kept; keep float, or declare a migrate function that rounds (e.g. Math.round)", path)
	case old.Kind != new.Kind:
		rule := map[context]Rule{ctxTop: RuleTypeChanged, ctxField: RuleFieldTypeChanged, ctxElem: RuleTupleChanged}[ctx]
		e.add(Incompatible, rule, path, old, new, false,
			"%s changes from %s to %s: stored values cannot be converted; %s", path, old, new, fixIncompatible)
	case old.Kind == Record:
		e.walkRecord(old, new, path, recPath)
	case old.Kind == Tuple:
		e.walkTuple(old, new, path)
	case old.Kind == List:
		e.walk(old.Elem, new.Elem, path+"[*]", ctxTop, nil)
	case old.Kind == Map:
		if !old.Key.Equal(new.Key) {
			e.add(Incompatible, RuleMapKeyChanged, path, old, new, false,
				"%s changes its key type from %s to %s: map keys never evolve; %s", path, old.Key, new.Key, fixIncompatible)
		}
		e.walk(old.Elem, new.Elem, path+"[*]", ctxTop, nil)
	}
}

func (e *evolver) walkRecord(old, new *Type, path string, recPath []string) {
	oldFields := make(map[string]*Type, len(old.Fields))
	for _, f := range old.Fields {
		oldFields[f.Name] = f.Type
	}
	newFields := make(map[string]*Type, len(new.Fields))
	for _, f := range new.Fields {
		newFields[f.Name] = f.Type
	}
	var removed []Field
	for _, f := range old.Fields {
		if newFields[f.Name] == nil {
			removed = append(removed, f)
		}
	}
	var added []Field
	for _, f := range new.Fields {
		ot := oldFields[f.Name]
		fp := path + fieldSeg(f.Name)
		if ot != nil {
			e.walk(ot, f.Type, fp, ctxField, appendPath(recPath, f.Name))
			continue
		}
		added = append(added, f)
		if f.Type.Kind == Optional || f.Type.Kind == Any {
			e.add(CompatibleAfterMigration, RuleFieldAddedOptional, fp, nil, f.Type, false,
				"field %s (%s) is added as optional: existing entries get null", fp, f.Type)
			continue
		}
		if from := renameSource(removed, f.Type); from != "" {
			e.add(Incompatible, RuleFieldRenamedOrAddedRequired, fp, nil, f.Type, false,
				"required field %s (%s) is added and %s (%s) removed: if this is a rename, keep the data with %s",
				fp, f.Type, path+fieldSeg(from), f.Type, migrateExample(recPath, f.Name, "s"+jsPath(recPath)+"."+from))
			continue
		}
		e.add(Incompatible, RuleFieldRenamedOrAddedRequired, fp, nil, f.Type, false,
			"required field %s (%s) is added: existing entries have no value for it; make it optional (%s: %s) or declare a migrate function that sets it, e.g. %s",
			fp, f.Type, f.Name, OptionalOf(f.Type), migrateExample(recPath, f.Name, zeroJS(f.Type)))
	}
	for _, f := range removed {
		fp := path + fieldSeg(f.Name)
		msg := fmt.Sprintf("field %s (%s) is removed: its data is dropped on restore", fp, f.Type)
		for _, a := range added {
			if a.Type.Equal(f.Type) || a.Type.Equal(OptionalOf(f.Type)) {
				msg += fmt.Sprintf("; if it was renamed to %s, keep the data with %s",
					a.Name, migrateExample(recPath, a.Name, "s"+jsPath(recPath)+"."+f.Name))
				break
			}
		}
		e.add(CompatibleAfterMigration, RuleFieldRemoved, fp, f.Type, nil, true, "%s", msg)
	}
	if oldOrder, newOrder := commonOrder(old, newFields), commonOrder(new, oldFields); oldOrder != newOrder {
		e.add(CompatibleAfterMigration, RuleFieldsReordered, path, old, new, false,
			"the fields of %s are reordered (%s -> %s): fields are matched by name, the state is rewritten on restore", path, oldOrder, newOrder)
	}
}

// commonOrder lists r's fields that other also has, in r's order.
func commonOrder(r *Type, other map[string]*Type) string {
	var names []string
	for _, f := range r.Fields {
		if other[f.Name] != nil {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}

// renameSource returns the first removed field of type t, or "".
func renameSource(removed []Field, t *Type) string {
	for _, f := range removed {
		if f.Type.Equal(t) {
			return f.Name
		}
	}
	return ""
}

// appendPath extends the record path (nil stays nil: the way passed through a collection).
func appendPath(recPath []string, name string) []string {
	if recPath == nil {
		return nil
	}
	return append(slices.Clip(recPath), name)
}

func jsPath(recPath []string) string {
	if len(recPath) == 0 {
		return ""
	}
	return "." + strings.Join(recPath, ".")
}

// migrateExample is a migrate function setting field name of the record at recPath to the JS
// expression value: `migrate: "s => ({...s, alarm: {...s.alarm, name: value}})"`.
// Below a tuple, list or map (recPath nil) it names the function only.
func migrateExample(recPath []string, name, value string) string {
	if recPath == nil {
		return "a migrate function that sets " + name + " in every element"
	}
	var spread func(base string, rest []string) string
	spread = func(base string, rest []string) string {
		if len(rest) == 0 {
			return "{..." + base + ", " + name + ": " + value + "}"
		}
		return "{..." + base + ", " + rest[0] + ": " + spread(base+"."+rest[0], rest[1:]) + "}"
	}
	return `migrate: "s => (` + spread("s", recPath) + `)"`
}

// zeroJS is a JS literal of type t for examples.
func zeroJS(t *Type) string {
	switch t.Kind {
	case Bool:
		return "false"
	case Int, Float:
		return "0"
	case String, Bytes:
		return "''"
	case List, Tuple:
		return "[]"
	case Map, Record:
		return "{}"
	}
	return "null"
}

func (e *evolver) walkTuple(old, new *Type, path string) {
	if len(old.Elems) != len(new.Elems) {
		e.add(Incompatible, RuleTupleArityChanged, path, old, new, false,
			"%s changes from %s to %s: a tuple keeps its arity (%d -> %d elements); %s",
			path, old, new, len(old.Elems), len(new.Elems), fixIncompatible)
		return
	}
	swapped := make([]bool, len(old.Elems))
	for i := range old.Elems {
		for j := i + 1; j < len(old.Elems); j++ {
			if !swapped[i] && !swapped[j] && !old.Elems[i].Equal(new.Elems[i]) &&
				old.Elems[i].Equal(new.Elems[j]) && old.Elems[j].Equal(new.Elems[i]) {
				swapped[i], swapped[j] = true, true
				e.add(Incompatible, RuleTupleChanged, path, old, new, false,
					"%s changes from %s to %s: positions %d and %d are swapped, and tuples are matched by position; declare a migrate function that swaps them back",
					path, old, new, i, j)
			}
		}
	}
	for i := range old.Elems {
		if !swapped[i] {
			e.walk(old.Elems[i], new.Elems[i], path+indexSeg(i), ctxElem, nil)
		}
	}
}
