package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// checkpointPipeline is a bounded, paced job with periodic checkpoints: a running sum per key
// into a file sink, so that a lost or doubled record changes the output.
const checkpointPipeline = `name: checkpointed
parallelism: 2
checkpoint: {interval: 150ms}
sources:
  - uid: numbers
    kind: generator
    count: 3000
    rate: 1500
    schema: {id: int, k: int}
    fn: "i => ({id: i, k: i % 7})"
operators:
  - uid: sums
    kind: sum
    input: numbers
    key_by: k
    field: id
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: sums
`

// referenceOutput runs the pipeline src (a bounded job with a file sink to out.jsonl) once,
// uninterrupted, in a world of its own, and returns its sink's sorted lines: what every
// interrupted, restored or upgraded run of it must end with.
func referenceOutput(t *testing.T, src string) string {
	t.Helper()
	ref := newHarness(t)
	ref.write("p.yaml", src)
	ref.mustRun(0, "run", "p.yaml")
	return sortedLines(ref.read("out.jsonl"))
}

// killedAfterCheckpoint starts checkpointPipeline, kills it with SIGKILL once a checkpoint is
// complete, and returns its world and checkpoints directory.
func killedAfterCheckpoint(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	run := h.start("run", "p.yaml")
	checkpoints := filepath.Join(h.home, "state", "checkpointed", "checkpoints")
	testkit.Eventually(t, 20*time.Second, "a complete checkpoint", func() bool { return completeCheckpoints(checkpoints) > 0 })
	run.signal(t, syscall.SIGKILL)
	testkit.Eventually(t, 10*time.Second, "the killed process ended", run.exited)
	return h, checkpoints
}

// TestKillNineResumesFromCheckpoint is the promise of docs/operations.md (Checkpoints and
// recovery): kill -9 the process while it runs, run it again, and the file sink's final output equals that of a run that was never
// interrupted (nothing lost, nothing counted twice).
func TestKillNineResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	want := referenceOutput(t, checkpointPipeline)

	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	run := h.start("run", "p.yaml")
	checkpoints := filepath.Join(h.home, "state", "checkpointed", "checkpoints")
	testkit.Eventually(t, 20*time.Second, "a complete checkpoint and some output", func() bool {
		return completeCheckpoints(checkpoints) > 0 && len(h.read("out.jsonl")) > 0
	})
	run.signal(t, syscall.SIGKILL)
	select {
	case <-run.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed process did not end")
	}
	if got := sortedLines(h.read("out.jsonl")); got == want {
		t.Fatal("the job had finished before the kill: nothing was tested")
	}

	res := h.mustRun(0, "run", "p.yaml")
	if !regexp.MustCompile(`(?m)^Resuming from checkpoint `).MatchString(res.stderr) {
		t.Errorf("the second run does not say it resumes:\n%s", res.stderr)
	}
	if got := sortedLines(h.read("out.jsonl")); got != want {
		t.Errorf("after kill -9 and a rerun the sink holds\n%s\nan uninterrupted run\n%s", got, want)
	}
	if n := completeCheckpoints(checkpoints); n != 0 {
		t.Errorf("a finished job left %d checkpoints", n)
	}
}

// completeCheckpoints counts the complete checkpoints in dir (one being written has a hidden
// name).
func completeCheckpoints(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}
