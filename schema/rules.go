package schema

// This file is the catalog of the compatibility rules: every rule id and every verdict that
// `check-compat` and a restore write live here, and docs/compat-rules.md has one section per
// rule (a test keeps the two the same set). Type evolution rules are decided by Evolve; the
// others by the compat package, which judges uids, keys, operators and sources.

// Verdict is the outcome of comparing an old and a new type, state or uid, as written in
// every report format (docs/compat-rules.md).
type Verdict string

// The verdicts. Evolve decides only the first three; compat adds Dropped and New.
const (
	Compatible               Verdict = "compatible"
	CompatibleAfterMigration Verdict = "compatible-after-migration"
	Incompatible             Verdict = "incompatible"
	// Dropped: the old side holds state that the new pipeline does not restore.
	Dropped Verdict = "dropped"
	// New: the new pipeline declares state that the old side does not hold; it starts empty.
	New Verdict = "new"
)

// severity orders the verdicts of Evolve: larger is worse.
func (v Verdict) severity() int {
	switch v {
	case CompatibleAfterMigration:
		return 1
	case Incompatible:
		return 2
	}
	return 0
}

// Rule is the stable id of a compatibility rule. Reports and CI scripts match on it.
type Rule string

// The rules, in the order docs/compat-rules.md states them.
const (
	// RuleStateUnchanged: the schema (and key type and operator kind) is the same on both
	// sides, or a stateless uid is kept or removed.
	RuleStateUnchanged  Rule = "STATE_UNCHANGED"
	RuleStateNew        Rule = "STATE_NEW"
	RuleStateDropped    Rule = "STATE_DROPPED"
	RuleMigrateFunction Rule = "MIGRATE_FUNCTION"

	// The type evolution rules, decided by Evolve.
	RuleFieldAddedOptional          Rule = "FIELD_ADDED_OPTIONAL"
	RuleFieldRenamedOrAddedRequired Rule = "FIELD_RENAMED_OR_ADDED_REQUIRED"
	RuleFieldRemoved                Rule = "FIELD_REMOVED"
	RuleFieldsReordered             Rule = "FIELDS_REORDERED"
	RuleFieldTypeChanged            Rule = "FIELD_TYPE_CHANGED"
	RuleTypeWidened                 Rule = "TYPE_WIDENED"
	RuleTypeNarrowed                Rule = "TYPE_NARROWED"
	RuleTypeChanged                 Rule = "TYPE_CHANGED"
	RuleMadeOptional                Rule = "MADE_OPTIONAL"
	RuleOptionalRemoved             Rule = "OPTIONAL_REMOVED"
	RuleTupleArityChanged           Rule = "TUPLE_ARITY_CHANGED"
	RuleTupleChanged                Rule = "TUPLE_CHANGED"
	RuleMapKeyChanged               Rule = "MAP_KEY_CHANGED"
	RuleUntypedState                Rule = "UNTYPED_STATE"

	// The rules of keys, operators and the job, decided by compat.
	RuleKeyTypeChanged        Rule = "KEY_TYPE_CHANGED"
	RuleOperatorKindChanged   Rule = "OPERATOR_KIND_CHANGED"
	RuleMaxParallelismChanged Rule = "MAX_PARALLELISM_CHANGED"
	// RuleUIDRenamed is noted on the results of a uid that takes over the state of an old uid
	// (previous_uids); the deciding rule stays the result's Rule.
	RuleUIDRenamed          Rule = "UID_RENAMED"
	RuleSourceKindChanged   Rule = "SOURCE_KIND_CHANGED"
	RuleSourceTopicsDropped Rule = "SOURCE_TOPICS_DROPPED"
)

// Rules returns every rule of the catalog, in the order docs/compat-rules.md states them.
func Rules() []Rule {
	return []Rule{
		RuleStateUnchanged, RuleStateNew, RuleStateDropped, RuleMigrateFunction,
		RuleFieldAddedOptional, RuleFieldRenamedOrAddedRequired, RuleFieldRemoved,
		RuleFieldsReordered, RuleFieldTypeChanged, RuleTypeWidened, RuleTypeNarrowed,
		RuleTypeChanged, RuleMadeOptional, RuleOptionalRemoved, RuleTupleArityChanged,
		RuleTupleChanged, RuleMapKeyChanged, RuleUntypedState,
		RuleKeyTypeChanged, RuleOperatorKindChanged, RuleMaxParallelismChanged,
		RuleUIDRenamed, RuleSourceKindChanged, RuleSourceTopicsDropped,
	}
}
