package compat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixes applies, to each case of testdata whose new pipeline cannot restore the old side,
// the fix its report suggests (one of them, when it offers several), as edits of new.yaml
// and the flag the fix names.
var fixes = map[string]struct {
	edits []string // old, new, old, new, …
	allow bool     // --allow-non-restored-state
}{
	// An operator's internal state: a new uid, the old one dropped.
	"internal-aggregate-accumulator-changes": {newUID("stats"), true},
	"internal-co-group-left-changes":         {newUID("joined"), true},
	"internal-window-all-input-changes":      {newUID("totals"), true},
	"internal-window-input-changes":          {newUID("counts"), true},
	"pitstop-reduce-tuple-grows":             {newUID("counts"), true},
	// …or the type that reaches it kept compatible: the new field optional.
	"internal-builtin-aggregations-required-field": {[]string{"schema: {room: int, time: int, value: int, unit: string}", `schema: "{room: int, time: int, value: int, unit: string?}"`}, false},
	"rule-key-type-changed":                        {newUID("alarm-evaluator"), true},
	"rule-operator-kind-changed":                   {newUID("alarm-evaluator"), true},
	"rule-field-added-required":                    {[]string{"by: string}", "by: string?}"}, false},
	"rule-migrate-from-incompatible":               {[]string{"by: string}", "by: string?}"}, false},
	"rule-field-renamed":                           {migrate(`"{active: bool, at: int}"`, "{active: bool, at: int}", `s => ({...s, at: s.time})`), false},
	"rule-field-type-changed":                      {migrate(`"{active: bool, time: string}"`, "{active: bool, time: string}", `old => ({active: old.active, time: String(old.time)})`), false},
	"rule-map-key-changed":                         {[]string{"      seen: {", "      seenByInt: {"}, true},
	"rule-max-parallelism-changed":                 {[]string{"max_parallelism: 256", "max_parallelism: 128"}, false},
	"rule-migrate-from-missing":                    {[]string{"migrate_from: alarm-v0", "migrate_from: alarm"}, false},
	"rule-optional-removed":                        {[]string{"alarm: int\n", "alarm: int?\n"}, false},
	"rule-record-to-tuple":                         {migrate(`[bool, int]`, "(bool, int)", `old => [old.active, old.time]`), false},
	"rule-state-dropped":                           {nil, true},
	"rule-state-dropped-uid":                       {nil, true},
	// A renamed source's offsets: taken over by previous_uids, or dropped.
	"rule-source-offsets-dropped":      {[]string{"  - uid: numbers\n", "  - uid: numbers\n    previous_uids: [events]\n"}, false},
	"rule-source-offsets-dropped/drop": {nil, true},
	"rule-tuple-arity-changed":         {migrate(`[bool, int, string]`, "(bool, int, string)", `old => [old[0], old[1], "unknown"]`), false},
	"rule-tuple-swapped":               {migrate(`[int, bool]`, "(int, bool)", `old => [old[1], old[0]]`), false},
	"rule-type-changed":                {migrate(`string`, "string", `old => String(old)`), false},
	"rule-type-narrowed":               {[]string{"time: int}\"\n    output", "time: float}\"\n    output"}, false},
	"rule-untyped-from-any":            {migrate(`"{active: bool, time: int}"`, "{active: bool, time: int}", `old => ({active: !!old.active, time: Math.round(old.time)})`), false},
	"pitstop-state-tuple-grows": {[]string{"    state: [bool, int, string]\n",
		"    state:\n      type: \"(bool, int, string)\"\n      migrate: |\n        old => [old[0], old[1], \"unknown\"]\n"}, false},
	// The generic fix of a user state's incompatible type, its last alternative: a new name,
	// the old state dropped.
	"rule-field-type-changed/rename": {[]string{"      alarm: \"{active: bool, time: string}\"", "      alarmV2: \"{active: bool, time: string}\""}, true},
}

// newUID renames an operator (and its readers' input).
func newUID(uid string) []string {
	return []string{"uid: " + uid + "\n", "uid: " + uid + "-v2\n", "input: " + uid + "\n", "input: " + uid + "-v2\n"}
}

// migrate gives the state `alarm:`, written as written, of type typ a migrate function.
func migrate(written, typ, fn string) []string {
	return []string{"      alarm: " + written + "\n", "      alarm:\n        type: '" + typ + "'\n        migrate: |\n          " + fn + "\n"}
}

// TestFixesWork: every case whose new pipeline cannot restore the old side has a fix above,
// and the fix its report suggests makes it restorable.
func TestFixesWork(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases in testdata (%v)", err)
	}
	cases := map[string]bool{}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		cases[name] = true
		ar, dir := caseFiles(t, file)
		old := oldSide(t, ar, dir)
		if Check(old, load(t, filepath.Join(dir, "new.yaml")), caseOptions(ar)).Compatible {
			continue
		}
		found := false
		for key, fix := range fixes {
			if key != name && !strings.HasPrefix(key, name+"/") {
				continue
			}
			found = true
			t.Run(key, func(t *testing.T) {
				fixed, _ := ar.File("new.yaml")
				for i := 0; i+1 < len(fix.edits); i += 2 {
					if !strings.Contains(fixed, fix.edits[i]) {
						t.Fatalf("new.yaml has no %q to fix", fix.edits[i])
					}
					fixed = strings.ReplaceAll(fixed, fix.edits[i], fix.edits[i+1])
				}
				path := filepath.Join(dir, "fixed.yaml")
				if err := os.WriteFile(path, []byte(fixed), 0o644); err != nil {
					t.Fatal(err)
				}
				rep := Check(old, load(t, path), Options{AllowNonRestoredState: fix.allow})
				if !rep.Compatible {
					var b strings.Builder
					rep.WriteText(&b)
					t.Errorf("the suggested fix does not make it compatible:\n%s", b.String())
				}
			})
		}
		if !found {
			t.Errorf("%s: incompatible, and no fix in fixes applies its report's suggestion", name)
		}
	}
	for key := range fixes {
		if name, _, _ := strings.Cut(key, "/"); !cases[name] {
			t.Errorf("fixes names %s, which is not a case of testdata", key)
		}
	}
}

// TestNoFixSuggestsTheFlagAlone: --allow-non-restored-state drops state that nothing restores;
// it never makes a changed state compatible, so no reason about one may offer it alone.
func TestNoFixSuggestsTheFlagAlone(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "incompatible ") && strings.Contains(line, "or restore with --allow-non-restored-state") {
				t.Errorf("%s: %s", filepath.Base(file), line)
			}
		}
	}
}
