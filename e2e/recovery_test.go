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
