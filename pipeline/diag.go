package pipeline

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity of a diagnostic.
type Severity uint8

// Severities.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// Stable ids of the checks (Diagnostic.Code).
const (
	CodeYAML       = "yaml"          // the file is not valid YAML
	CodeUnknownKey = "unknown-key"   // a key that the item does not take
	CodeMissingKey = "missing-key"   // a required key is absent
	CodeDuplicate  = "duplicate-key" // a key written twice in one mapping
	CodeValue      = "value"         // a value of the wrong shape or out of range
	CodeEnv        = "env"           // a ${VAR} that cannot be resolved
	CodeUID        = "uid"           // a bad or duplicate uid
	CodeKind       = "kind"          // an unknown kind
	CodeInput      = "input"         // an input that does not exist or cannot be read
	CodeCycle      = "cycle"         // the graph has a cycle
	CodeUnread     = "unread"        // a stream nobody reads
	CodeType       = "type"          // a type error along an edge or in a declaration
	CodeState      = "state"         // a bad state declaration
	CodeJS         = "js"            // a JavaScript syntax error
	CodeReplay     = "not-replayable"
)

// Diagnostic is a finding at a position of a file, shared by validate and check-compat.
// Error() reads `file:line:col: msg` (warnings: `file:line:col: warning: msg`).
type Diagnostic struct {
	File     string
	Line     int
	Col      int
	Severity Severity
	Code     string // stable id of the check, e.g. "unknown-key", "cycle", "type"
	Msg      string
}

func (d Diagnostic) Error() string {
	if d.Severity == SeverityWarning {
		return fmt.Sprintf("%s:%d:%d: warning: %s", d.File, d.Line, d.Col, d.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
}

// Diagnostics is every finding of one load; as an error it lists them one a line.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// HasErrors reports whether any finding is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == SeverityError })
}

// sort orders the findings by position, keeping the order of findings at one position.
func (ds Diagnostics) sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// afterEnv drops the findings at the position of an unresolved ${VAR} or of a scalar that
// holds one: the value there is the reference itself, and what is wrong with it is the
// variable.
func (ds Diagnostics) afterEnv(unresolved []Pos) Diagnostics {
	env := map[[2]int]bool{}
	for _, d := range ds {
		if d.Code == CodeEnv {
			env[[2]int{d.Line, d.Col}] = true
		}
	}
	for _, p := range unresolved {
		env[[2]int{p.Line, p.Col}] = true
	}
	return slices.DeleteFunc(ds, func(d Diagnostic) bool { return d.Code != CodeEnv && env[[2]int{d.Line, d.Col}] })
}
