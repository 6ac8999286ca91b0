package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// hostilePipeline is a generator (of count records; "": without end) feeding a map whose
// function is fn, with the given on_error; one subtask each, chained, so no records wait in
// between (each would take a timeout when a stop drains them).
func hostilePipeline(count, onError, fn string) string {
	if count != "" {
		count = "\n    count: " + count
	}
	return `name: hostile
parallelism: 1
function_timeout: 200ms
sources:
  - uid: events
    kind: generator` + count + `
    schema: {n: int}
    fn: "i => ({n: i})"
operators:
  - uid: evil
    kind: map
    input: events
    output: {i: list<int>}
    on_error: ` + onError + `
    fn: |
      ` + fn + `
sinks:
  - uid: out
    kind: stdout
    input: evil
`
}

// TestHostileJavaScriptFailsTheJob runs functions that used to crash or hang the process: the
// job fails with exit 1 and a message naming the operator and the record, never a Go crash.
func TestHostileJavaScriptFailsTheJob(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, fn, want string }{
		{"getter loops", `e => ({get i() { while (true) {} }})`, "timed out after 200ms"},
		{"Proxy loops", `e => new Proxy({}, {get() { while (true) {} }})`, "timed out after 200ms"},
		{"new Array(2^32-1)", `e => ({i: new Array(4294967295)})`, "an array of 4294967295 elements"},
		{"sparse a[1e8]", `e => { const a = []; a[1e8] = 1; return {i: a} }`, "an array of 100000001 elements"},
		{"repeat 2^31-1", `e => ({i: ["x".repeat(2**31 - 1)]})`, "RangeError: Invalid string length"},
		{"toString throws", `e => { const x = new Error("x"); x.toString = () => { throw 1 }; throw x }`, "its message threw"},
		{"toJSON loops", `e => { throw {toJSON() { while (true) {} }} }`, "its message timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.write("p.yaml", hostilePipeline("3", "fail", tc.fn))
			res := h.mustRun(1, "run", "p.yaml")
			for _, want := range []string{`operator "evil"`, tc.want, `record {"n":0}`} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
				}
			}
			if strings.Contains(res.stderr, "goroutine ") || strings.Contains(res.stderr, "fatal error") {
				t.Errorf("a Go crash:\n%s", res.stderr)
			}
		})
	}
}

// TestHostileResultDoesNotHangStop skips records whose result loops in a getter, without end:
// SIGTERM still stops the job at once (within a function timeout), and the run's summary
// counts the skipped records.
func TestHostileResultDoesNotHangStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", hostilePipeline("", "skip", `e => ({get i() { while (true) {} }})`))
	run := h.start("run", "p.yaml")
	testkit.Eventually(t, outputTimeout, "a skipped record on stderr", func() bool {
		return strings.Contains(run.stderr.String(), "record skipped")
	})
	run.signal(t, syscall.SIGTERM)
	if code := run.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0\nstderr:\n%s", code, run.stderr.String())
	}
	if !strings.Contains(run.stderr.String(), `msg="records not processed" uid=evil skipped=`) {
		t.Errorf("no summary of the skipped records:\n%s", run.stderr.String())
	}
}
