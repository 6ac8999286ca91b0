package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestoreFromOwnCheckpoint is the recovery step after a crash: naming a checkpoint of
// the job's own state directory with --from-savepoint restores it (it is not removed before
// it is read), and the output equals an uninterrupted run's.
func TestRestoreFromOwnCheckpoint(t *testing.T) {
	t.Parallel()
	ref := newHarness(t)
	ref.write("p.yaml", checkpointPipeline)
	ref.mustRun(0, "run", "p.yaml")
	want := sortedLines(ref.read("out.jsonl"))

	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	run := h.start("run", "p.yaml")
	checkpoints := filepath.Join(h.home, "state", "checkpointed", "checkpoints")
	eventually(t, 20*time.Second, "a complete checkpoint", func() bool { return completeCheckpoints(checkpoints) > 0 })
	run.signal(t, syscall.SIGKILL)
	eventually(t, 10*time.Second, "the killed process ended", run.exited)
	entries, err := os.ReadDir(checkpoints)
	if err != nil {
		t.Fatal(err)
	}
	var cp string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			cp = filepath.Join(checkpoints, e.Name())
		}
	}
	res := h.mustRun(0, "run", "p.yaml", "--from-savepoint", cp)
	if !strings.Contains(res.stderr, "Restored") {
		t.Errorf("the run does not say what it restored:\n%s", res.stderr)
	}
	if got := sortedLines(h.read("out.jsonl")); got != want {
		t.Errorf("restored from its own checkpoint, the sink holds\n%s\nan uninterrupted run\n%s", got, want)
	}
}

// TestFromSavepointEmptyOrMissing: `--from-savepoint ""` (what SP=$(pipectl stop …) yields
// when the stop failed) and a path that does not exist are usage errors that touch nothing,
// detached or not.
func TestFromSavepointEmptyOrMissing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	h.write("out.jsonl", "precious\n")
	for _, args := range [][]string{
		{"run", "p.yaml", "--from-savepoint", ""},
		{"run", "p.yaml", "--from-savepoint="},
		{"run", "p.yaml", "--from-savepoint", "  "},
		{"run", "p.yaml", "--from-savepoint", "no-such-savepoint"},
		{"run", "-d", "p.yaml", "--from-savepoint", ""},
		{"run", "-d", "p.yaml", "--from-savepoint", "no-such-savepoint"},
	} {
		res := h.mustRun(2, args...)
		if !strings.Contains(res.stderr, "savepoint") || res.stdout != "" {
			t.Errorf("pipectl %q: stdout %q stderr %q", args, res.stdout, res.stderr)
		}
		if got := h.read("out.jsonl"); got != "precious\n" {
			t.Fatalf("pipectl %q changed the file sink to %q", args, got)
		}
	}
	if jobs := h.list(true); len(jobs) != 0 {
		t.Errorf("refused runs left jobs: %+v", jobs)
	}
}

// TestFileSinkOwnedByOneJob: a second job writing the same file sink path (another pipeline
// name, its own state directory) is refused, naming the job that holds it, and the first
// job's output is left alone; once that job is gone the path is free again.
func TestFileSinkOwnedByOneJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("first.yaml", strings.NewReplacer("NAME", "first", "FOLLOW", "true").Replace(sinkPipeline))
	h.write("second.yaml", strings.NewReplacer("NAME", "second", "FOLLOW", "false").Replace(sinkPipeline))
	h.write("in.jsonl", `{"n": 1}`+"\n")
	id := h.detach("run", "-d", "first.yaml")
	eventually(t, 10*time.Second, "the first record in the sink", func() bool { return h.read("out.jsonl") != "" })
	before := h.read("out.jsonl")

	res := h.mustRun(1, "run", "second.yaml", "--state-dir", "other-state")
	if !strings.Contains(res.stderr, "out.jsonl") || !strings.Contains(res.stderr, id) || !strings.Contains(res.stderr, "(first)") {
		t.Errorf("the refusal does not name the sink and the job holding it:\n%s", res.stderr)
	}
	if got := h.read("out.jsonl"); got != before {
		t.Errorf("the refused job changed the sink: %q, was %q", got, before)
	}
	h.mustRun(0, "cancel", id)
	info, _ := h.jobInfo(id)
	eventually(t, 10*time.Second, "the first job's process gone", func() bool { return !processAlive(info.PID) })
	h.mustRun(0, "run", "second.yaml", "--state-dir", "other-state")
}

// sinkPipeline reads in.jsonl into out.jsonl; NAME is its name, FOLLOW its follow: value.
const sinkPipeline = `name: NAME
sources:
  - uid: in
    kind: file
    path: in.jsonl
    follow: FOLLOW
    schema: {n: int}
sinks:
  - uid: out
    kind: file
    path: out.jsonl
    input: in
`
