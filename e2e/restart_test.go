package e2e

import (
	"strings"
	"testing"
)

// restartYAML sums numbers per key into a file sink, with checkpoints and a restart policy;
// the generator's rate makes checkpoints fall between the injected failures. Tests set its
// name, restart attempts and output file through the environment.
const restartYAML = `name: ${NAME:-restart-e2e}
parallelism: 1
checkpoint: {interval: 100ms}
restart:
  attempts: ${ATTEMPTS:-3}
  delay: 100ms
sources:
  - uid: numbers
    kind: generator
    count: 400
    rate: 400
    fn: "i => ({k: i % 7, n: i})"
    schema: {k: int, n: int}
operators:
  - uid: sums
    kind: reduce
    input: numbers
    key_by: k
    fn: "(a, b) => ({k: a.k, n: a.n + b.n})"
sinks:
  - uid: out
    kind: file
    path: ${OUT:-out.jsonl}
    input: sums
`

// TestRestartAfterSinkFailures makes the file sink fail twice (the test-only fault hook) in a
// job with `restart: {attempts: 3}`: the job restarts twice from its latest checkpoints, says
// so on stderr, finishes, and its file equals that of a run that never failed.
func TestRestartAfterSinkFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.bindEnv(h.write("clean.yaml", restartYAML), map[string]string{"OUT": "clean.jsonl"})
	h.bindEnv(h.write("faulty.yaml", restartYAML), map[string]string{"OUT": "faulty.jsonl", "NAME": "restart-e2e-faulty"})
	h.mustRun(0, "run", "clean.yaml")

	stderr := h.must(0, h.runEnv([]string{"PIPECTL_FAULT_SINK_WRITE=out:2:90"}, "run", "faulty.yaml")).stderr
	// The failures come after the first checkpoints (every 100 ms; 90 records take 225 ms).
	for _, want := range []string{"restart 1 of 3 in 100ms from checkpoint", "restart 2 of 3 in 200ms from checkpoint",
		"injected I/O fault", "finished"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "restart 3 of 3") {
		t.Errorf("a third restart for two failures:\n%s", stderr)
	}
	clean, faulty := h.read("clean.jsonl"), h.read("faulty.jsonl")
	if n := len(nonEmptyLines(clean)); n != 400 {
		t.Fatalf("the clean run wrote %d records, want 400", n)
	}
	if faulty != clean {
		t.Errorf("the restarted run's output differs from the clean run's: %d records, want %d",
			len(nonEmptyLines(faulty)), len(nonEmptyLines(clean)))
	}
}

// TestRestartExhausted: more failures than attempts end the job FAILED, exit 1.
func TestRestartExhausted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.bindEnv(h.write("faulty.yaml", restartYAML), map[string]string{"ATTEMPTS": "1"})
	stderr := h.must(1, h.runEnv([]string{"PIPECTL_FAULT_SINK_WRITE=out:5:20"}, "run", "faulty.yaml")).stderr
	if !strings.Contains(stderr, "restart 1 of 1") || !strings.Contains(stderr, "no restart left") {
		t.Errorf("stderr does not tell of the restart and the end:\n%s", stderr)
	}
	jobs := h.list(true)
	if len(jobs) != 1 || jobs[0].Status != "FAILED" {
		t.Errorf("jobs %+v, want one FAILED", jobs)
	}
}
