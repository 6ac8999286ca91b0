package pipeline

import (
	"fmt"
	"strings"
)

// OperatorReference renders the reference of every operator kind as Markdown:
// docs/operators.md is this text (a test fails when it drifts), so an operator's keys are
// documented where they are declared (Operators).
func OperatorReference() string {
	var b strings.Builder
	b.WriteString("# Operator reference\n\n")
	b.WriteString("<!-- Generated from the operator kinds' declarations in pipeline/kinds.go: `go test ./pipeline -run TestOperatorReference -update`. -->\n\n")
	fmt.Fprintf(&b, "Every operator also takes %s; one that runs JavaScript also %s.\n",
		codeList(operatorCommon), codeList(operatorJS))
	b.WriteString("[pipelines.md](pipelines.md#operators) explains each kind with examples.\n\n")
	b.WriteString("| kind | keyed | inputs | internal state |\n|---|---|---|---|\n")
	for _, kind := range OpKinds() {
		s := Operators[kind]
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", kind, kind, yesNo(s.Keyed), inputsName(s.Inputs), stateNames(s.States))
	}
	for _, kind := range OpKinds() {
		s := Operators[kind]
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", kind, s.Summary)
		fmt.Fprintf(&b, "Keyed: %s. Runs JavaScript: %s. Output: %s.\n", yesNo(s.Keyed), yesNo(s.JS), s.Output)
		switch {
		case s.OneSubtask:
			b.WriteString("Runs at parallelism 1, with one key.\n")
		case s.Field == FieldNumber:
			b.WriteString("`field` must be an int or a float.\n")
		case s.Field == FieldOrdered:
			b.WriteString("`field` must be an int, a float or a string.\n")
		}
		b.WriteString("\n| key | | |\n|---|---|---|\n")
		for _, k := range s.Keys {
			req := "optional"
			if k.Required {
				req = "required"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", k.Name, req, k.Doc)
		}
		if len(s.States) > 0 {
			b.WriteString("\nInternal state:\n\n")
			for _, st := range s.States {
				fmt.Fprintf(&b, "- `%s`: %s\n", st.Name, st.Doc)
			}
		}
	}
	return b.String()
}

// codeList is "`a`, `b` and `c`".
func codeList(items []string) string {
	s := "`" + strings.Join(items, "`, `") + "`"
	if i := strings.LastIndex(s, ", "); i >= 0 {
		s = s[:i] + " and " + s[i+2:]
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// inputsName describes OpSpec.Inputs.
func inputsName(n int) string {
	switch n {
	case 1:
		return "one"
	case 2:
		return "two: [left, right]"
	}
	return "two or more, of one type"
}

// stateNames lists internal states for the summary table.
func stateNames(states []InternalState) string {
	if len(states) == 0 {
		return "—"
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = "`" + s.Name + "`"
	}
	return strings.Join(names, ", ")
}
