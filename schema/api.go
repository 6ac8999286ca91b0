package schema

// This file lists the package's API as it is used by the rest of pipectl. Bodies marked
// "unimplemented" are being written; keep the signatures and contracts.

// Verdict is the outcome of comparing an old and a new type (or state). Larger is worse.
type Verdict uint8

// Verdicts, best first.
const (
	Compatible Verdict = iota
	CompatibleAfterMigration
	Incompatible
)

// String returns "compatible", "compatible-after-migration" or "incompatible".
func (v Verdict) String() string { panic("unimplemented") }

// Finding is one difference found between an old and a new type.
type Finding struct {
	Verdict Verdict
	Rule    string // stable rule id, e.g. FIELD_ADDED_OPTIONAL (SPEC §7)
	Path    string // where in the type: $, $.alarm, $[1]
	Old     string // old type at Path (canonical)
	New     string // new type at Path (canonical)
	Message string // one sentence: what changed, what it means, the fix
	Warning bool   // the finding deserves a warning (data dropped, precision, unchecked any)
}

// Evolution is the result of Evolve: the worst verdict anywhere and every finding.
type Evolution struct {
	Verdict  Verdict
	Rule     string    // the rule of the worst finding (STATE_UNCHANGED when identical)
	Reason   string    // the message of the worst finding
	Findings []Finding // all findings, in type order
}

// Evolve applies the evolution rules of SPEC §7 to old -> new, recursively.
func Evolve(old, new *Type) Evolution { panic("unimplemented") }

// Migrate converts a canonical value of old into one of new under the rules of Evolve (for
// types whose evolution is compatible or compatible after migration): added optional fields
// get nil, removed fields are dropped, int widens to float, T becomes T?, tuples, lists and
// maps convert element-wise.
func Migrate(old, new *Type, v any) (any, error) { panic("unimplemented") }
