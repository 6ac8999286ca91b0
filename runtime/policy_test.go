package runtime

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// throwingOps are operators that throw on the records with v == 3 (both of key a), each
// with its output under the skip policy (records of other keys and of a before and after go
// on).
var throwingOps = []struct {
	name, operator string
	skipped        []string
}{{
	name: "map",
	operator: `
  - uid: out
    kind: map
    input: events
    fn: |
      e => { if (e.v === 3) throw new Error("boom " + e.tag); return {k: e.k, v: e.v * 10} }
    output: {k: string, v: int}`,
	skipped: []string{`{"k":"a","v":50}`, `{"k":"b","v":70}`, `{"k":"b","v":90}`},
}, {
	name: "filter",
	operator: `
  - uid: out
    kind: filter
    input: events
    fn: |
      e => { if (e.v === 3) throw new Error("boom " + e.tag); return true }`,
	skipped: []string{`{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`, `{"k":"b","v":9,"tag":"q"}`},
}, {
	name: "reduce",
	operator: `
  - uid: out
    kind: reduce
    input: events
    key_by: k
    fn: |
      (a, e) => { if (e.v === 3) throw new Error("boom " + e.tag); return {k: a.k, v: a.v + e.v, tag: a.tag} }`,
	skipped: []string{`{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`, `{"k":"b","v":16,"tag":"z"}`},
}, {
	name: "flat_map_with_state",
	operator: `
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: k
    state: int
    output: {k: string, n: int}
    fn: |
      (e, s) => { if (e.v === 3) throw new Error("boom " + e.tag); return [[{k: e.k, n: (s || 0) + 1}], (s || 0) + 1] }`,
	skipped: []string{`{"k":"a","n":1}`, `{"k":"b","n":1}`, `{"k":"b","n":2}`},
}}

func TestOnErrorPolicies(t *testing.T) {
	for _, op := range throwingOps {
		for _, policy := range []string{"fail", "skip", "dead_letter"} {
			t.Run(op.name+"/"+policy, func(t *testing.T) {
				h := newHarness(t, statebackend.KindMemory)
				operator := op.operator + "\n    on_error: " + policy
				if policy == "dead_letter" {
					operator += "\n    dead_letter: bad/out.jsonl"
				}
				src := genPipeline(kv, kvEvents, operator)
				got, err := h.run(src, jobSpec{})
				if policy == "fail" {
					wantErrContaining(t, err, `"out"`, fmt.Sprintf("pipeline.yaml:%d", lineOf(t, src, "boom")), "boom y")
					return
				}
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				diffLines(t, got, op.skipped)
				dead := h.fileLines("bad/out.jsonl")
				if policy == "skip" {
					if dead != nil {
						t.Errorf("skip wrote dead letters: %q", dead)
					}
					return
				}
				if len(dead) != 2 {
					t.Fatalf("dead letters %q, want 2", dead)
				}
				for i, tag := range []string{"y", "w"} {
					wantDeadLetter(t, dead[i], []string{"uid", "error", "record"}, map[string]any{
						"uid": "out", "record": map[string]any{"k": "a", "v": 3.0, "tag": tag},
					}, "boom "+tag)
				}
			})
		}
	}
}

func TestFunctionTimeoutIsAnError(t *testing.T) {
	h := newHarness(t, statebackend.KindMemory)
	src := genPipeline(kv, kvEvents, `
  - uid: out
    kind: filter
    input: events
    function_timeout: 50ms
    on_error: dead_letter
    dead_letter: bad.jsonl
    fn: |
      e => { while (e.v === 7) {} return true }`)
	diffLines(t, h.mustRun(src, jobSpec{}), []string{
		`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":3,"tag":"y"}`, `{"k":"a","v":3,"tag":"w"}`, `{"k":"b","v":9,"tag":"q"}`,
	})
	dead := h.fileLines("bad.jsonl")
	if len(dead) != 1 {
		t.Fatalf("dead letters %q, want 1", dead)
	}
	wantDeadLetter(t, dead[0], []string{"uid", "error", "record"}, map[string]any{
		"uid": "out", "record": map[string]any{"k": "b", "v": 7.0, "tag": "z"},
	}, "out")
}

func TestResultTypeMismatch(t *testing.T) {
	cases := []struct {
		name, operator string
		want           []string
	}{{
		name: "map result field",
		operator: `
  - uid: out
    kind: map
    input: events
    fn: "e => ({k: e.k, when: {time: e.tag}})"
    output: {k: string, when: {time: int}}`,
		want: []string{`"out"`, "$.when.time", "int", `"x"`},
	}, {
		name: "flat_map element",
		operator: `
  - uid: out
    kind: flat_map
    input: events
    fn: "e => [e.v, e.tag]"
    output: int`,
		want: []string{`"out"`, "$", "int", `"x"`},
	}, {
		name: "reduce result",
		operator: `
  - uid: out
    kind: reduce
    input: events
    key_by: k
    fn: "(a, e) => ({k: a.k, v: 1.5, tag: a.tag})"`,
		want: []string{`"out"`, "$.v", "int", "1.5"},
	}, {
		name: "aggregate accumulator",
		operator: `
  - uid: out
    kind: aggregate
    input: events
    key_by: k
    init: () => 0
    fn: "(acc, e) => e.k === 'b' ? 'many' : acc + 1"
    accumulator: int`,
		want: []string{`"out"`, "accumulator", "int", `"many"`},
	}, {
		name: "flat_map_with_state new state",
		operator: `
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: k
    state: "{n: int}"
    output: int
    fn: "(e, s) => [[], {n: null}]"`,
		want: []string{`"out"`, "new state", "$.n", "int", "null"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := newHarness(t, statebackend.KindMemory).run(genPipeline(kv, kvEvents, c.operator), jobSpec{})
			wantErrContaining(t, err, c.want...)
		})
	}
}

// badRecords is a JSONL input with a malformed line (2) and a record of the wrong type (4).
const badRecords = `{"k":"a","v":1,"tag":"x"}
{"k":"a","v":
{"k":"b","v":2,"tag":"y"}
{"k":"b","v":"two","tag":"z"}
{"k":"c","v":3,"tag":"w"}
`

func TestBadSourceRecords(t *testing.T) {
	good := []string{`{"k":"a","v":1,"tag":"x"}`, `{"k":"b","v":2,"tag":"y"}`, `{"k":"c","v":3,"tag":"w"}`}
	for _, policy := range []string{"fail", "skip", "dead_letter"} {
		t.Run(policy, func(t *testing.T) {
			h := newHarness(t, statebackend.KindMemory)
			h.writeFile("in/events.jsonl", badRecords)
			extra := ""
			if policy == "dead_letter" {
				extra = "\n    dead_letter: bad/events.jsonl"
			}
			src := fmt.Sprintf(`name: bad-records
parallelism: 1
state_backend: memory
sources:
  - uid: events
    kind: file
    path: in/*.jsonl
    format: jsonl
    schema: %s
    on_error: %s%s
sinks:
  - {uid: sink, kind: stdout, input: events}
`, kv, policy, extra)
			got, err := h.run(src, jobSpec{})
			if policy == "fail" {
				wantErrContaining(t, err, `"events"`, h.path("in/events.jsonl")+":2", "byte offset 26")
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			diffLines(t, got, good)
			if policy == "skip" {
				return
			}
			dead := h.fileLines("bad/events.jsonl")
			if len(dead) != 2 {
				t.Fatalf("dead letters %q, want 2", dead)
			}
			lines := strings.Split(badRecords, "\n")
			for i, line := range []int{2, 4} {
				wantDeadLetter(t, dead[i], []string{"uid", "error", "record", "file", "line"}, map[string]any{
					"uid": "events", "record": lines[line-1], "file": h.path("in/events.jsonl"), "line": float64(line),
				}, "")
			}
		})
	}
}

// wantDeadLetter checks one dead-letter line: exactly the given keys, the given values, and
// an error message containing errPart.
func wantDeadLetter(t *testing.T, line string, keys []string, want map[string]any, errPart string) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("dead letter %q: %v", line, err)
	}
	var gotKeys []string
	for k := range got {
		gotKeys = append(gotKeys, k)
	}
	if !reflect.DeepEqual(sorted(gotKeys), sorted(keys)) {
		t.Errorf("dead letter %s: keys %q, want %q", line, sorted(gotKeys), sorted(keys))
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("dead letter %s: %s is %#v, want %#v", line, k, got[k], v)
		}
	}
	if msg, _ := got["error"].(string); msg == "" || !strings.Contains(msg, errPart) {
		t.Errorf("dead letter %s: error %q does not contain %q", line, msg, errPart)
	}
}

// lineOf is the 1-based line of the first line of src that contains part.
func lineOf(t *testing.T, src, part string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, part) {
			return i + 1
		}
	}
	t.Fatalf("%q is not in the pipeline", part)
	return 0
}
