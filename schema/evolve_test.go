package schema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// evolveCases are old -> new pairs with the expected verdict, rule and the rules of all
// findings in order.
var evolveCases = []struct {
	old, new string
	verdict  Verdict
	rule     Rule
	findings []Rule
}{
	{"{a: int}", "{a: int}", Compatible, RuleStateUnchanged, nil},
	{"int", "int", Compatible, RuleStateUnchanged, nil},
	{"{a: int}", "{a: int, b: string?}", CompatibleAfterMigration, RuleFieldAddedOptional, []Rule{RuleFieldAddedOptional}},
	{"{a: int, b: int}", "{a: int}", CompatibleAfterMigration, RuleFieldRemoved, []Rule{RuleFieldRemoved}},
	{"{a: int}", "{a: int, b: int}", Incompatible, RuleFieldRenamedOrAddedRequired, []Rule{RuleFieldRenamedOrAddedRequired}},
	{"{a: int, old: string}", "{a: int, renamed: string}", Incompatible, RuleFieldRenamedOrAddedRequired,
		[]Rule{RuleFieldRenamedOrAddedRequired, RuleFieldRemoved}},
	{"{alarm: {a: int, old: string}}", "{alarm: {a: int, renamed: string}}", Incompatible, RuleFieldRenamedOrAddedRequired,
		[]Rule{RuleFieldRenamedOrAddedRequired, RuleFieldRemoved}},
	{"{a: int, b: bool}", "{b: bool, a: int}", CompatibleAfterMigration, RuleFieldsReordered, []Rule{RuleFieldsReordered}},
	{"{a: int}", "{a: string}", Incompatible, RuleFieldTypeChanged, []Rule{RuleFieldTypeChanged}},
	{"{a: int}", "{a: (int, int)}", Incompatible, RuleFieldTypeChanged, []Rule{RuleFieldTypeChanged}},
	{"int", "float", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"{t: int}", "{t: float}", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"float", "int", Incompatible, RuleTypeNarrowed, []Rule{RuleTypeNarrowed}},
	{"int", "string", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"bytes", "string", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"{a: int}", "(int, int)", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"(int, int)", "list<int>", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"list<int>", "int", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"int", "int?", CompatibleAfterMigration, RuleMadeOptional, []Rule{RuleMadeOptional}},
	{"int", "float?", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleMadeOptional, RuleTypeWidened}},
	{"{a: int}", "{a: int}?", CompatibleAfterMigration, RuleMadeOptional, []Rule{RuleMadeOptional}},
	{"int?", "int", Incompatible, RuleOptionalRemoved, []Rule{RuleOptionalRemoved}},
	{"int?", "float?", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"(int, int)", "(int, int, int)", Incompatible, RuleTupleArityChanged, []Rule{RuleTupleArityChanged}},
	{"(bool, int)", "(int, bool)", Incompatible, RuleTupleChanged, []Rule{RuleTupleChanged}},
	{"(bool, int)", "(bool, string)", Incompatible, RuleTupleChanged, []Rule{RuleTupleChanged}},
	{"(bool, int)", "(bool, float)", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"list<int>", "list<float>", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"list<{a: int}>", "list<{a: int, b: int?}>", CompatibleAfterMigration, RuleFieldAddedOptional, []Rule{RuleFieldAddedOptional}},
	{"list<{a: int, x: int}>", "list<{a: int, y: int}>", Incompatible, RuleFieldRenamedOrAddedRequired,
		[]Rule{RuleFieldRenamedOrAddedRequired, RuleFieldRemoved}},
	{"map<string, int>", "map<string, float>", CompatibleAfterMigration, RuleTypeWidened, []Rule{RuleTypeWidened}},
	{"map<string, int>", "map<int, int>", Incompatible, RuleMapKeyChanged, []Rule{RuleMapKeyChanged}},
	{"map<string, int>", "map<string, string>", Incompatible, RuleTypeChanged, []Rule{RuleTypeChanged}},
	{"any", "any", Compatible, RuleUntypedState, []Rule{RuleUntypedState}},
	{"{a: int, b: any}", "{a: int, b: any}", Compatible, RuleUntypedState, []Rule{RuleUntypedState}},
	{"{a: int}", "any", CompatibleAfterMigration, RuleUntypedState, []Rule{RuleUntypedState}},
	{"any", "{a: int}", Incompatible, RuleUntypedState, []Rule{RuleUntypedState}},
	// The worst finding wins; a warning outranks a plain finding of the same verdict.
	{"{a: int, b: int, c: float}", "{c: int, a: float, d: int?}", Incompatible, RuleTypeNarrowed,
		[]Rule{RuleTypeNarrowed, RuleTypeWidened, RuleFieldAddedOptional, RuleFieldRemoved, RuleFieldsReordered}},
	{"{a: int, b: int}", "{a: int, c: int?}", CompatibleAfterMigration, RuleFieldRemoved,
		[]Rule{RuleFieldAddedOptional, RuleFieldRemoved}},
}

func TestEvolve(t *testing.T) {
	var golden strings.Builder
	for _, tt := range evolveCases {
		ev := Evolve(MustParse(tt.old), MustParse(tt.new))
		var rules []Rule
		for _, f := range ev.Findings {
			rules = append(rules, f.Rule)
		}
		if ev.Verdict != tt.verdict || ev.Rule != tt.rule || !reflect.DeepEqual(rules, tt.findings) {
			t.Errorf("%s -> %s: %s %s %v, want %s %s %v", tt.old, tt.new, ev.Verdict, ev.Rule, rules, tt.verdict, tt.rule, tt.findings)
		}
		fmt.Fprintf(&golden, "%s -> %s\n  %s %s: %s\n", tt.old, tt.new, ev.Verdict, ev.Rule, ev.Reason)
		for _, f := range ev.Findings {
			fmt.Fprintf(&golden, "  - %s %s at %s (%q -> %q, warning %v): %s\n", f.Verdict, f.Rule, f.Path, f.Old, f.New, f.Warning, f.Message)
		}
	}
	testkit.Golden(t, "testdata/evolve.golden", golden.String())
}

func TestEvolveMessages(t *testing.T) {
	tests := []struct{ old, new, want string }{
		{"{alarm: {a: int, old: string}}", "{alarm: {a: int, renamed: string}}",
			`required field $.alarm.renamed (string) is added and $.alarm.old (string) removed: if this is a rename, keep the data with migrate: "s => ({...s, alarm: {...s.alarm, renamed: s.alarm.old}})"`},
		{"{a: int}", "{a: int, b: int}",
			`required field $.b (int) is added: existing entries have no value for it; make it optional (b: int?) or declare a migrate function that sets it, e.g. migrate: "s => ({...s, b: 0})"`},
		{"{a: int}", "{a: string}",
			`$.a changes from int to string: stored values cannot be converted; declare a migrate function, keep the old state under another name and migrate lazily, or restore with --allow-non-restored-state`},
	}
	for _, tt := range tests {
		if got := Evolve(MustParse(tt.old), MustParse(tt.new)).Reason; got != tt.want {
			t.Errorf("%s -> %s:\n got %s\nwant %s", tt.old, tt.new, got, tt.want)
		}
	}
}

func TestMigrate(t *testing.T) {
	tests := []struct {
		old, new string
		in, want any
	}{
		{"int", "int", int64(1), int64(1)},
		{"int", "float", int64(2), 2.0},
		{"int", "int?", int64(2), int64(2)},
		{"int?", "float?", nil, nil},
		{"{a: int, b: string}", "{b: string, a: float, c: bool?}",
			map[string]any{"a": int64(1), "b": "x"}, map[string]any{"a": 1.0, "b": "x", "c": nil}},
		{"{a: int, b: string}", "{a: int}", map[string]any{"a": int64(1), "b": "x"}, map[string]any{"a": int64(1)}},
		{"(bool, int)", "(bool, float)", []any{true, int64(3)}, []any{true, 3.0}},
		{"list<int>", "list<float>", []any{int64(1)}, []any{1.0}},
		{"map<int, int>", "map<int, float?>", map[string]any{"1": int64(1)}, map[string]any{"1": 1.0}},
		{"{b: bytes}", "any", map[string]any{"b": []byte("hi")}, map[string]any{"b": "aGk="}},
	}
	for _, tt := range tests {
		got, err := Migrate(MustParse(tt.old), MustParse(tt.new), tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Migrate(%s -> %s, %#v) = %#v, %v, want %#v", tt.old, tt.new, tt.in, got, err, tt.want)
		}
	}
}

func TestMigrateErrors(t *testing.T) {
	tests := []struct {
		old, new string
		in       any
		want     string
	}{
		{"float", "int", 1.5, `$: expected int, got 1.5 (no rule converts float; declare a migrate function)`},
		{"{a: int}", "{a: int, b: int}", map[string]any{"a": int64(1)}, `$.b: expected int, got nothing (required field added; declare a migrate function that sets it)`},
		{"list<int?>", "list<int>", []any{nil}, `$[0]: expected int, got null (no rule converts int?; declare a migrate function)`},
		{"any", "int", int64(1), `$: expected int, got 1 (no rule converts any; declare a migrate function)`},
	}
	for _, tt := range tests {
		_, err := Migrate(MustParse(tt.old), MustParse(tt.new), tt.in)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Migrate(%s -> %s): %v, want %s", tt.old, tt.new, err, tt.want)
		}
	}
}

// TestMigrateFitsNewType checks that every migration that the rules allow gives a value that
// the new type accepts as canonical.
func TestMigrateFitsNewType(t *testing.T) {
	samples := map[string]any{
		"{a: int}":                   map[string]any{"a": int64(1)},
		"{a: int, b: int}":           map[string]any{"a": int64(1), "b": int64(2)},
		"int":                        int64(5),
		"(bool, int)":                []any{true, int64(1)},
		"list<int>":                  []any{int64(1)},
		"map<string, int>":           map[string]any{"k": int64(1)},
		"{a: int, old: string}":      map[string]any{"a": int64(1), "old": "x"},
		"{a: int, b: bool}":          map[string]any{"a": int64(1), "b": true},
		"list<{a: int}>":             []any{map[string]any{"a": int64(1)}},
		"int?":                       nil,
		"{t: int}":                   map[string]any{"t": int64(1)},
		"{a: int, b: int, c: float}": map[string]any{"a": int64(1), "b": int64(2), "c": 0.5},
	}
	for _, tt := range evolveCases {
		in, ok := samples[tt.old]
		if !ok || tt.verdict == Incompatible {
			continue
		}
		newT := MustParse(tt.new)
		out, err := Migrate(MustParse(tt.old), newT, in)
		if err != nil {
			t.Errorf("Migrate(%s -> %s): %v", tt.old, tt.new, err)
			continue
		}
		if conv, err := newT.Convert(out); err != nil || !reflect.DeepEqual(conv, out) {
			t.Errorf("Migrate(%s -> %s) = %#v, not canonical for the new type: %v", tt.old, tt.new, out, err)
		}
	}
}
