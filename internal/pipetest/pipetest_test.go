package pipetest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// want is the expected result of one test of a file.
type want struct {
	name   string
	passed bool
	// detail holds substrings that the failure's message and detail must contain, in order.
	detail []string
}

// writeTest writes a test file into a temporary directory; PIPELINES in it is replaced by
// the absolute path of testdata/pipelines.
func writeTest(t *testing.T, body string) string {
	t.Helper()
	abs, err := filepath.Abs("testdata/pipelines")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x_test.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(body, "PIPELINES", abs)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkResults compares a file's results with want.
func checkResults(t *testing.T, got FileResult, wants []want) {
	t.Helper()
	if got.Err != nil {
		t.Fatalf("unexpected read error: %v", got.Err)
	}
	if len(got.Tests) != len(wants) {
		t.Fatalf("got %d results, want %d: %+v", len(got.Tests), len(wants), got.Tests)
	}
	for i, w := range wants {
		r := got.Tests[i]
		text := strings.Join(append([]string{r.Message}, r.Detail...), "\n")
		if r.Name != w.name || r.Passed != w.passed {
			t.Errorf("test %d: got %q passed=%v, want %q passed=%v\n%s", i, r.Name, r.Passed, w.name, w.passed, text)
			continue
		}
		rest := text
		for _, d := range w.detail {
			i := strings.Index(rest, d)
			if i < 0 {
				t.Errorf("%s: the report lacks %q (in order):\n%s", w.name, d, text)
				break
			}
			rest = rest[i+len(d):]
		}
	}
}

func TestRunFile(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		run   string
		wants []want
	}{
		{
			name: "pass, with params, env and state",
			file: `
pipeline: PIPELINES/alarm.yaml
params: {tolerance: 500}
env: {EVENTS: none.jsonl}
tests:
  - name: tolerance
    input:
      events:
        - {type: activate, room: 1, time: 1000}
        - {type: motion, room: 1, time: 1400}
        - {type: motion, room: 1, time: 1600}
    expect:
      output:
        alarms: [{type: ALARM, room: 1, time: 1600}]
        rooms: [{room: 1}, {room: 1}, {room: 1}]
      state:
        evaluator:
          value: [{key: 1, value: [true, 1000]}]
`,
			wants: []want{{name: "tolerance", passed: true}},
		},
		{
			name: "multiset: missing and unexpected records",
			file: `
pipeline: PIPELINES/alarm.yaml
tests:
  - name: wrong
    input:
      events:
        - {type: activate, room: 1, time: 1000}
        - {type: motion, room: 1, time: 2000}
        - {type: motion, room: 1, time: 3000}
    expect:
      output:
        alarms: [{type: ALARM, room: 1, time: 3000}, {type: ALARM, room: 1, time: 4000}]
`,
			wants: []want{{name: "wrong", detail: []string{
				"x_test.yaml:4: the run differs", `output of sink "alarms" (as a multiset): 1 missing, 1 unexpected`,
				`  - {"type":"ALARM","room":1,"time":4000}`, `  + {"type":"ALARM","room":1,"time":2000}`,
			}}},
		},
		{
			name: "order: a multiset passes what ordered fails",
			file: `
pipeline: PIPELINES/alarm.yaml
tests:
  - name: any order
    input:
      events: [{type: activate, room: 1, time: 1}, {type: motion, room: 1, time: 2}, {type: motion, room: 1, time: 3}]
    expect:
      output:
        alarms: [{type: ALARM, room: 1, time: 3}, {type: ALARM, room: 1, time: 2}]
  - name: in order
    input:
      events: [{type: activate, room: 1, time: 1}, {type: motion, room: 1, time: 2}, {type: motion, room: 1, time: 3}]
    expect:
      ordered: true
      output:
        alarms: [{type: ALARM, room: 1, time: 3}, {type: ALARM, room: 1, time: 2}]
`,
			wants: []want{
				{name: "any order", passed: true},
				{name: "in order", detail: []string{`output of sink "alarms" (in order): 2 expected, 2 received`,
					`  - {"type":"ALARM","room":1,"time":3}`, `    {"type":"ALARM","room":1,"time":2}`, `  + {"type":"ALARM","room":1,"time":3}`}},
			},
		},
		{
			name: "state: initial entries, a wrong value, an absent key, unlisted keys unchecked",
			file: `
pipeline: PIPELINES/alarm.yaml
tests:
  - name: state
    state:
      evaluator:
        value: [{key: 7, value: [true, 0]}, {key: 8, value: [false, 0]}]
    input:
      events: [{type: motion, room: 7, time: 10}, {type: activate, room: 9, time: 20}]
    expect:
      output:
        alarms: [{type: ALARM, room: 7, time: 10}]
      state:
        evaluator:
          value: [{key: 9, value: [true, 21]}, {key: 7, value: [true, 0]}, {key: 3, value: [false, 0]}]
`,
			wants: []want{{name: "state", detail: []string{
				"state evaluator.value, key 9:", "  - [true,21]", "  + [true,20]",
				"state evaluator.value, key 3:", "  - [false,0]", "  + (absent)",
			}}},
		},
		{
			name: "processing time: advance steps fire timers, TTL expires state",
			file: `
pipeline: PIPELINES/timers.yaml
tests:
  - name: timers
    now: 1000
    input:
      ev:
        - {k: a, v: 1}
        - {k: a, v: 2}
        - advance: 3s
        - {k: b, v: 5}
        - advance: 2s
        - {k: a, v: 10}
        - advance: 10s
    expect:
      ordered: true
      output:
        sums:
          - {k: a, sum: 3, at: 6000}
          - {k: b, sum: 5, at: 9000}
          - {k: a, sum: 13, at: 11000}
        counts: [{start: 0, n: 4}]
      state:
        summer:
          sum: [{key: a, value: 13}, {key: b, value: 5}]
  - name: ttl
    now: 2024-01-01T00:00:00Z
    input:
      ev: [{k: a, v: 1}, {advance: 61s}]
    expect:
      output:
        sums: [{k: a, sum: 1, at: 1704067205000}]
      state:
        summer:
          sum: [{key: a, value: 1}]
`,
			wants: []want{
				{name: "timers", passed: true},
				{name: "ttl", detail: []string{"state summer.sum, key \"a\":", "  - 1", "  + (absent)"}},
			},
		},
		{
			name: "event time: windows fire at the end of input; sources interleave in steps",
			file: `
pipeline: PIPELINES/windows.yaml
tests:
  - name: mapping input
    input:
      a: [{room: 1, time: 1000}, {room: 1, time: 12000}]
      b: [{room: 1, time: 2000}]
    expect:
      ordered: true
      output:
        out: [{room: 1, start: 0, n: 2}, {room: 1, start: 10000, n: 1}]
  - name: steps
    input:
      - a: {room: 1, time: 1000}
      - b: {room: 1, time: 15000}
      - a: {room: 1, time: 16000}
      - b: {room: 1, time: 2000}
    expect:
      ordered: true
      output:
        out: [{room: 1, start: 0, n: 1}, {room: 1, start: 10000, n: 2}]
`,
			wants: []want{{name: "mapping input", passed: true}, {name: "steps", passed: true}},
		},
		{
			name: "connectors never connect: a postgres sink is captured",
			file: `
pipeline: PIPELINES/postgres.yaml
env: {PG_DSN: "postgres://nobody:secret@127.0.0.1:1/none?connect_timeout=1"}
tests:
  - name: upserts
    input:
      ev: [{room: 1, time: 5}, {room: 1, time: 7}]
    expect:
      ordered: true
      output:
        table: [{room: 1, time: 5}, {room: 1, time: 7}]
      state:
        latest:
          reduce: [{key: 1, value: {room: 1, time: 7}}]
`,
			wants: []want{{name: "upserts", passed: true}},
		},
		{
			name: "kafka: never connects; timestamp: kafka from the metadata field or the clock; watermarks per partition",
			file: `
pipeline: PIPELINES/kafka.yaml
env: {KAFKA_BROKERS: "127.0.0.1:1"}
tests:
  - name: per partition
    input:
      events:
        - {room: 1, p: 0, ts: 1000}
        - {room: 1, p: 1, ts: 2000}
        - {room: 1, p: 0, ts: 25000}    # partition 1 holds the watermark at 2s
        - {room: 1, p: 1, ts: 8000}     # so this one is not late
    expect:
      output:
        out: [{room: 1, start: 0, n: 3}, {room: 1, start: 20000, n: 1}]
  - name: stamped when fed
    now: 0
    input:
      stamped: [{room: 1}, {advance: 12s}, {room: 1}, {room: 1}]
    expect:
      output:
        stamped-out: [{room: 1, start: 0, n: 1}, {room: 1, start: 10000, n: 2}]
`,
			wants: []want{{name: "per partition", passed: true}, {name: "stamped when fed", passed: true}},
		},
		{
			name: "types: records and values are checked against the pipeline",
			file: `
pipeline: PIPELINES/alarm.yaml
tests:
  - name: bad input
    input:
      events: [{type: activate, room: one, time: 1}]
    expect: {}
  - name: unknown field
    input:
      events: [{type: activate, rooom: 1, time: 1}]
    expect: {}
  - name: bad expected record
    expect:
      output:
        alarms: [{type: ALARM, room: 1}]
  - name: bad state value
    expect:
      state:
        evaluator:
          value: [{key: 1, value: [true]}]
  - name: not a source
    input:
      evaluatr: []
    expect: {}
  - name: not a sink
    expect:
      output:
        evaluator: []
  - name: no such state
    expect:
      state:
        evaluator:
          acc: []
  - name: not an operator
    expect:
      state:
        evaluatr:
          value: [{key: 1, value: [true, 1]}]
`,
			wants: []want{
				{name: "bad input", detail: []string{`x_test.yaml:6:39: input of source "events": $.room: expected int, got "one"`}},
				{name: "unknown field", detail: []string{`x_test.yaml:10:33: input of source "events": field "rooom" is not in the type`, `(did you mean "room"?)`}},
				{name: "bad expected record", detail: []string{`x_test.yaml:15:18: expected output of sink "alarms": $.time: expected int, got nothing (missing field)`}},
				{name: "bad state value", detail: []string{`x_test.yaml:20:35: value of expect.state of evaluator.value: $: expected (bool, int), got [true]`}},
				{name: "not a source", detail: []string{`input: "evaluatr" is not a source of the pipeline (it has: events)`}},
				{name: "not a sink", detail: []string{`expect.output: "evaluator" is not a sink of the pipeline (it has: alarms, rooms)`}},
				{name: "no such state", detail: []string{`x_test.yaml:33:11: expect.state: "evaluator" has no state "acc" (its states: value)`}},
				{name: "not an operator", detail: []string{`x_test.yaml:37:9: expect.state: "evaluatr" is not an operator of the pipeline`}},
			},
		},
		{
			name: "a failing job fails its test; --run selects",
			run:  "^boom",
			file: `
pipeline: PIPELINES/alarm.yaml
tests:
  - name: skipped
    expect: {}
  - name: boom
    input:
      events: [{type: boom, room: 1, time: 1}]
    expect: {}
`,
			wants: []want{{name: "boom", detail: []string{"x_test.yaml:6: the job failed:", "boom"}}},
		},
		{
			name: "an invalid pipeline fails every test",
			file: `
pipeline: PIPELINES/alarm.yaml
params: {nope: 1}
tests:
  - name: one
    expect: {}
`,
			wants: []want{{name: "one", detail: []string{"the pipeline is invalid", `unknown param "nope"`}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{}
			if c.run != "" {
				opts.Run = regexp.MustCompile(c.run)
			}
			checkResults(t, RunFile(writeTest(t, c.file), opts), c.wants)
		})
	}
}

func TestReadErrors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"bad YAML", "pipeline: [x\ntests: []\n", "x_test.yaml:1:11: invalid YAML: did not find expected ',' or ']'"},
		{"bad YAML in a test", "pipeline: p.yaml\ntests:\n  - name: a\n    input: {a: [1, 2}\n", "x_test.yaml:4:12: invalid YAML: did not find expected ',' or ']'"},
		{"bad YAML on line 1", ": : bad\n", "x_test.yaml:1:1: invalid YAML: did not find expected key"},
		{"unknown top-level key", "pipeline: PIPELINES/alarm.yaml\ntest: []\n", `x_test.yaml:2:1: unknown key "test" in a test file (did you mean "tests"?)`},
		{"unknown test key", "pipeline: p.yaml\ntests:\n  - name: a\n    expected: {}\n", `x_test.yaml:4:5: unknown key "expected" in a test (did you mean "expect"?)`},
		{"unknown expect key", "pipeline: p.yaml\ntests:\n  - name: a\n    expect: {outputs: {}}\n", `x_test.yaml:4:14: unknown key "outputs" in expect (did you mean "output"?)`},
		{"missing name", "pipeline: p.yaml\ntests:\n  - expect: {}\n", "x_test.yaml:3:5: a test needs `name:`"},
		{"no tests", "pipeline: p.yaml\ntests: []\n", "x_test.yaml:2:8: tests is empty"},
		{"duplicate name", "pipeline: p.yaml\ntests:\n  - {name: a, expect: {}}\n  - {name: a, expect: {}}\n", `x_test.yaml:4:5: a second test named "a" (the first is at line 3)`},
		{"bad advance", "pipeline: p.yaml\ntests:\n  - name: a\n    input: {s: [advance: 5]}\n    expect: {}\n", `x_test.yaml:4:26: advance: "5" needs a unit`},
		{"bad entry", "pipeline: p.yaml\ntests:\n  - name: a\n    state: {u: {s: [{key: 1}]}}\n    expect: {}\n", "x_test.yaml:4:21: an entry of state.u.s needs `value:`"},
		{"missing pipeline file", "pipeline: nowhere.yaml\ntests:\n  - {name: a, expect: {}}\n", "x_test.yaml: pipeline: read pipeline"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := RunFile(writeTest(t, c.file), Options{})
			var re *ReadError
			if !errors.As(res.Err, &re) {
				t.Fatalf("got %v (results %+v), want a *ReadError", res.Err, res.Tests)
			}
			if !strings.Contains(re.Error(), c.want) {
				t.Errorf("got %q, want it to contain %q", re.Error(), c.want)
			}
		})
	}
	res := RunFile(filepath.Join(t.TempDir(), "missing_test.yaml"), Options{})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "no such file") {
		t.Errorf("missing file: got %v", res.Err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b/z_test.yaml", "a_test.yaml", "b/a_test.yaml", "c.yaml", "testdata/x_test.yaml", ".hidden/x_test.yaml", "_skip/x_test.yaml"} {
		testkit.WriteFile(t, filepath.Join(dir, f), "")
	}
	if _, err := Find([]string{"missing"}, Options{Dir: dir}); err == nil {
		t.Error("a missing directory: no error")
	}
	got, err := Find([]string{".", "c.yaml"}, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a_test.yaml", "b/a_test.yaml", "b/z_test.yaml", "c.yaml"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Find([]string{"empty"}, Options{Dir: dir}); err == nil {
		t.Error("a directory without test files: no error")
	}
}

// TestGolden runs testdata/failing_test.yaml and compares the text and JUnit reports with
// testdata/failing.txt and failing.junit.xml (refresh with -update).
func TestGolden(t *testing.T) {
	res := RunFile("testdata/failing_test.yaml", Options{})
	for i := range res.Tests {
		res.Tests[i].Elapsed = 0
	}
	results := []FileResult{res, {File: "testdata/missing_test.yaml", Err: &ReadError{errors.New("read test file testdata/missing_test.yaml: no such file or directory")}}}
	var text, junit bytes.Buffer
	if err := WriteText(&text, results); err != nil {
		t.Fatal(err)
	}
	if err := WriteJUnit(&junit, results); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/failing.txt", text.String())
	testkit.Golden(t, "testdata/failing.junit.xml", junit.String())
}

// TestParsePlacements: a file-level now: is the default of the tests that set none, and
// ordered: may stand in a test as well as in its expect.
func TestParsePlacements(t *testing.T) {
	f, err := Parse("p_test.yaml", t.TempDir(), []byte(`pipeline: p.yaml
now: 5000
tests:
  - name: inherits
    ordered: true
  - name: own
    now: 7000
    expect: {ordered: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Tests[0].Now.UnixMilli(); got != 5000 || !f.Tests[0].Ordered {
		t.Errorf("first test: now %d ordered %v, want 5000 and true", got, f.Tests[0].Ordered)
	}
	if got := f.Tests[1].Now.UnixMilli(); got != 7000 || f.Tests[1].Ordered {
		t.Errorf("second test: now %d ordered %v, want 7000 and false", got, f.Tests[1].Ordered)
	}
}
