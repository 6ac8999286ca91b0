package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// onErrorGenerator is a pipeline whose source emits {k: 0..3, a: "a".."d"}: its fields are
// declared in an order that is not alphabetical. OPERATOR is one operator reading src.
const onErrorGenerator = `name: onerr
state_backend: memory
sources:
  - {uid: src, kind: generator, count: 4, fn: "i => ({k: i, a: 'abcd'[i]})", schema: {k: int, a: string}}
operators:
OPERATOR
sinks:
  - {uid: o, kind: stdout, input: op}
`

// onErrorFile is a pipeline whose file source's timestamp function throws on v == 3 and
// returns a string on v == 4. POLICY is the source's on_error keys.
const onErrorFile = `name: onerr
state_backend: memory
sources:
  - uid: src
    kind: file
    path: in.jsonl
    schema: {v: int, time: int}
    POLICY
    timestamp: |
      e => {
        if (e.v == 3) throw new Error("ts")
        return e.v == 4 ? "x" : e.time
      }
sinks:
  - {uid: o, kind: stdout, input: src}
`

// onErrorInput is the file source's input: the line of v == 3 is spaced unlike the encoder
// would write it, so its dead letter shows whether the record is the line as read.
const onErrorInput = `{"v":1,"time":1000}
{"time": 2000,  "v": 3}
{"v":4,"time":3000}
{"v":5,"time":4000}
`

// mapThrows is a map that throws on k == 2.
const mapThrows = `  - uid: op
    kind: map
    input: src
    output: {k: int, a: string}
    fn: |
      e => {
        if (e.k == 2) throw new Error("bad " + e.a)
        return e
      }`

// keyByThrows is a reduce whose key_by throws on k == 2.
const keyByThrows = `  - uid: op
    kind: reduce
    input: src
    fn: "(a, b) => b"
    key_by: |
      e => {
        if (e.k == 2) throw new Error("kb")
        return e.a
      }`

// keyByWrongType is a reduce whose key_by returns a number on k == 2, not its string key.
const keyByWrongType = `  - uid: op
    kind: reduce
    input: src
    fn: "(a, b) => b"
    key_by: "e => e.k == 2 ? 5 : e.a"`

// TestOnErrorRecords: what on_error does with a failing record, line for line: the record's
// fields keep their declared order (in the dead letter and in messages), a JS key_by is its
// keyed operator's function under that operator's policy, and a source's bad timestamp is
// dead-lettered with the line as read, its file and line. In the patterns, {P} is the
// pipeline's path, {IN} the input's, {POS} a line:column in the pipeline.
func TestOnErrorRecords(t *testing.T) {
	t.Parallel()
	passed := []string{`{"k":0,"a":"a"}`, `{"k":1,"a":"b"}`, `{"k":3,"a":"d"}`}
	tests := []struct {
		name     string
		pipeline string
		policy   string // the failing node's on_error keys
		code     int
		stdout   []string // nil: not checked (the job failed)
		dead     []string // dl.jsonl, a pattern per line
		stderr   string   // a pattern stderr must match
	}{{
		name: "map fails", pipeline: mapThrows, code: 1,
		stderr: `failed: operator "op": {P}:{POS}: op.fn: Error: bad c (record {"k":2,"a":"c"})`,
	}, {
		name: "map dead-letters", pipeline: mapThrows, policy: "dead_letter", stdout: passed,
		dead:   []string{`{"uid":"op","error":"operator \"op\": {P}:{POS}: op.fn: Error: bad c","record":{"k":2,"a":"c"}}`},
		stderr: `msg="record dead-lettered" uid=op error="operator \"op\": {P}:{POS}: op.fn: Error: bad c" at="record {\"k\":2,\"a\":\"c\"}"`,
	}, {
		name: "key_by fails", pipeline: keyByThrows, code: 1,
		stderr: `error: job {ID} failed: operator "op": {P}:{POS}: op.key_by: Error: kb (record {"k":2,"a":"c"})` + "\n",
	}, {
		name: "key_by skips", pipeline: keyByThrows, policy: "skip", stdout: passed,
		stderr: `msg="record skipped" uid=op error="operator \"op\": {P}:{POS}: op.key_by: Error: kb (record {\"k\":2,\"a\":\"c\"})"`,
	}, {
		name: "key_by dead-letters", pipeline: keyByThrows, policy: "dead_letter", stdout: passed,
		dead: []string{`{"uid":"op","error":"operator \"op\": {P}:{POS}: op.key_by: Error: kb","record":{"k":2,"a":"c"}}`},
	}, {
		name: "key of another type fails", pipeline: keyByWrongType, code: 1,
		stderr: `failed: operator "op": key_by returned a key that does not fit key_type string: $: expected string, got 5 (record {"k":2,"a":"c"})`,
	}, {
		name: "key of another type skips", pipeline: keyByWrongType, policy: "skip", stdout: passed,
		stderr: `msg="record skipped" uid=op`,
	}, {
		name: "key of another type dead-letters", pipeline: keyByWrongType, policy: "dead_letter", stdout: passed,
		dead: []string{`{"uid":"op","error":"operator \"op\": key_by returned a key that does not fit key_type string: $: expected string, got 5","record":{"k":2,"a":"c"}}`},
	}, {
		name: "timestamp fails", pipeline: onErrorFile, code: 1,
		stderr: `failed: source "src": {IN}:2: {P}:{POS}: src.timestamp: Error: ts` + "\n",
	}, {
		name: "timestamp dead-letters", pipeline: onErrorFile, policy: "dead_letter",
		stdout: []string{`{"v":1,"time":1000}`, `{"v":5,"time":4000}`},
		dead: []string{
			`{"uid":"src","error":"{P}:{POS}: src.timestamp: Error: ts","record":"{\"time\": 2000,  \"v\": 3}","file":"{IN}","line":2}`,
			`{"uid":"src","error":"timestamp: expected epoch milliseconds (an integer), got \"x\"","record":"{\"v\":4,\"time\":3000}","file":"{IN}","line":3}`,
		},
		stderr: `msg="record dead-lettered" uid=src error="{P}:{POS}: src.timestamp: Error: ts" at={IN}:2 `,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			policy := "on_error: fail"
			switch tc.policy {
			case "skip":
				policy = "on_error: skip"
			case "dead_letter":
				policy = "on_error: dead_letter\n    dead_letter: dl.jsonl"
			}
			src := tc.pipeline
			if tc.pipeline == onErrorFile {
				h.write("in.jsonl", onErrorInput)
				src = strings.Replace(src, "POLICY", policy, 1)
			} else {
				src = strings.Replace(onErrorGenerator, "OPERATOR", tc.pipeline+"\n    "+policy, 1)
			}
			p := h.write("p.yaml", src)
			res := h.mustRun(tc.code, "run", "p.yaml")
			pattern := func(s string) string {
				return strings.NewReplacer(
					`\{P\}`, regexp.QuoteMeta(p), `\{IN\}`, regexp.QuoteMeta(h.path("in.jsonl")),
					`\{POS\}`, `[0-9]+:[0-9]+`, `\{ID\}`, `[0-9a-f]{32}`,
				).Replace(regexp.QuoteMeta(s))
			}
			if tc.stdout != nil && !slices.Equal(nonEmptyLines(res.stdout), tc.stdout) {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, strings.Join(tc.stdout, "\n"))
			}
			dead := nonEmptyLines(h.read("dl.jsonl"))
			if len(dead) != len(tc.dead) {
				t.Fatalf("dead letters:\n%s\nwant %d lines", strings.Join(dead, "\n"), len(tc.dead))
			}
			for i, want := range tc.dead {
				if !regexp.MustCompile("^" + pattern(want) + "$").MatchString(dead[i]) {
					t.Errorf("dead letter %d:\n%s\nwant:\n%s", i+1, dead[i], want)
				}
			}
			if !regexp.MustCompile(pattern(tc.stderr)).MatchString(res.stderr) {
				t.Errorf("stderr:\n%s\nwant a match of:\n%s", res.stderr, tc.stderr)
			}
		})
	}
}

// TestOnErrorTimestampFromStdin: standard input has no file to count lines in again, so the
// line of a bad timestamp's dead letter is the one the source counted.
func TestOnErrorTimestampFromStdin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := strings.Replace(onErrorFile, "POLICY", "on_error: dead_letter\n    dead_letter: dl.jsonl", 1)
	h.write("p.yaml", strings.Replace(src, "kind: file\n    path: in.jsonl", "kind: stdin", 1))
	cmd := h.command(context.Background(), "run", "p.yaml")
	cmd.Stdin = strings.NewReader(onErrorInput)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pipectl run: %v\n%s", err, out)
	}
	dead := nonEmptyLines(h.read("dl.jsonl"))
	want := []string{`"record":"{\"time\": 2000,  \"v\": 3}","file":"<stdin>","line":2}`, `"file":"<stdin>","line":3}`}
	if len(dead) != len(want) {
		t.Fatalf("dead letters:\n%s\nwant %d lines", strings.Join(dead, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(dead[i], w) {
			t.Errorf("dead letter %d:\n%s\nwant it to end with:\n%s", i+1, dead[i], w)
		}
	}
}
