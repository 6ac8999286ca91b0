package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// keyedPipeline is an unbounded, paced job with keyed state; KEY is its key field (k: int,
// s: string), so that changing it makes a savepoint incompatible.
const keyedPipeline = `name: keyed
sources:
  - uid: numbers
    kind: generator
    rate: 200
    schema: {id: int, k: int, s: string}
    fn: "i => ({id: i, k: i % 7, s: 'k' + (i % 7)})"
operators:
  - uid: sums
    kind: sum
    input: numbers
    key_by: KEY
    field: id
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: sums
`

// keyedSavepoint runs keyedPipeline keyed by k until it wrote output, stops it and returns
// the savepoint's path.
func keyedSavepoint(t *testing.T, h *harness) string {
	t.Helper()
	h.write("v1.yaml", strings.Replace(keyedPipeline, "KEY", "k", 1))
	h.write("v2.yaml", strings.Replace(keyedPipeline, "KEY", "s", 1))
	id := h.detach("run", "-d", "v1.yaml")
	testkit.Eventually(t, 10*time.Second, "some output", func() bool { return h.read("out.jsonl") != "" })
	return strings.TrimSpace(h.mustRun(0, "stop", id).stdout)
}

// TestDetachedIncompatibleRestore: a detached restore into an incompatible pipeline fails
// like the foreground one, showing the report's incompatible line and the job's log, and
// the failed job is listed FAILED.
func TestDetachedIncompatibleRestore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sp := keyedSavepoint(t, h)
	res := h.mustRun(1, "run", "-d", "v2.yaml", "--from-savepoint", sp)
	if !regexp.MustCompile(`(?m)^incompatible +sums`).MatchString(res.stderr) {
		t.Errorf("no incompatible line:\n%s", res.stderr)
	}
	m := regexp.MustCompile(`(?m)^log: (\S+/jobs/([0-9a-f]{32})/job\.log)$`).FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no log path:\n%s", res.stderr)
	}
	if !strings.Contains(h.read(m[1]), "incompatible") {
		t.Errorf("the log %s does not hold the report", m[1])
	}
	if got := h.status(m[2]); got != "FAILED" {
		t.Errorf("list --all shows the failed job as %q, want FAILED", got)
	}
}

// TestDetachedSlowRestore: when the job is still restoring after the start timeout, run -d
// prints its id (never an orphan with exit 1), and the job goes on to run.
func TestDetachedSlowRestore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sp := keyedSavepoint(t, h)
	res := h.must(0, h.runEnv([]string{"PIPECTL_START_TIMEOUT=1ns"}, "run", "-d", "v1.yaml", "--from-savepoint", sp))
	id := strings.TrimSpace(res.stdout)
	if !jobIDPattern.MatchString(id) {
		t.Fatalf("stdout %q, want the job id", res.stdout)
	}
	h.cleanupJob(id)
	if !strings.Contains(res.stderr, "is still restoring its state") {
		t.Errorf("stderr does not say the job is still restoring:\n%s", res.stderr)
	}
	testkit.Eventually(t, 20*time.Second, "the job running", func() bool { return h.status(id) == "RUNNING" })
}

// TestDetachedStartedLines: `run -d` says on stderr what a job in the foreground says when it
// starts (that it started, and what it restored), with the id alone on stdout.
func TestDetachedStartedLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sp := keyedSavepoint(t, h)
	res := h.mustRun(0, "run", "-d", "v1.yaml", "--from-savepoint", sp)
	id := strings.TrimSuffix(res.stdout, "\n")
	if !jobIDPattern.MatchString(id) {
		t.Fatalf("stdout %q, want the job id alone", res.stdout)
	}
	h.cleanupJob(id)
	want := regexp.MustCompile(`(?m)\AJob ` + id + ` \(keyed\) started
Restored \d+ entries of 1 states from ` + regexp.QuoteMeta(sp) + ` in \d+ ms\n\z`)
	if !want.MatchString(res.stderr) {
		t.Errorf("stderr:\n%s\nwant the started and restored lines (%s)", res.stderr, want)
	}
}
