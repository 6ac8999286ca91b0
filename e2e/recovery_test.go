package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestRestoreFromOwnCheckpoint is the recovery step after a crash: naming a checkpoint of
// the job's own state directory with --from-savepoint restores it (it is not removed before
// it is read), and the output equals an uninterrupted run's.
func TestRestoreFromOwnCheckpoint(t *testing.T) {
	t.Parallel()
	want := referenceOutput(t, checkpointPipeline)
	h, checkpoints := killedAfterCheckpoint(t)
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

// TestCheckpointIntervalFlag: --checkpoint-interval takes what a pipeline file's
// checkpoint.interval takes; anything else is a usage error naming the flag.
func TestCheckpointIntervalFlag(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	for bad, want := range map[string]string{
		"-1s": `error: --checkpoint-interval must be positive, got "-1s"`,
		"0s":  `error: --checkpoint-interval must be positive, got "0s"`,
		"abc": `error: --checkpoint-interval: "abc" is not a duration`,
	} {
		if res := h.mustRun(2, "run", "p.yaml", "--checkpoint-interval="+bad); !strings.HasPrefix(res.stderr, want) || res.stdout != "" {
			t.Errorf("--checkpoint-interval=%s: stdout %q stderr %q, want %q first", bad, res.stdout, res.stderr, want)
		}
	}
}

// TestDirectoriesThatAreFiles: a state or savepoint directory that is a file fails the run
// before the job starts, saying which directory, and leaves the file alone.
func TestDirectoriesThatAreFiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", checkpointPipeline)
	h.write("afile", "mine\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--state-dir", "afile"}, "error: state directory " + h.path("afile") + ": "},
		{[]string{"--savepoint-dir", "afile", "--final-savepoint"}, "error: savepoint directory " + h.path("afile") + " is not a directory"},
	} {
		res := h.mustRun(1, append([]string{"run", "p.yaml"}, tc.args...)...)
		if !strings.HasPrefix(res.stderr, tc.want) || res.stdout != "" {
			t.Errorf("run %q: stdout %q stderr %q, want %q first", tc.args, res.stdout, res.stderr, tc.want)
		}
		if got := h.read("afile"); got != "mine\n" {
			t.Errorf("run %q changed the file to %q", tc.args, got)
		}
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
	testkit.Eventually(t, 10*time.Second, "the first record in the sink", func() bool { return h.read("out.jsonl") != "" })
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
	testkit.Eventually(t, 10*time.Second, "the first job's process gone", func() bool { return !processAlive(info.PID) })
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

// TestFollowSurvivesRotation: `mv a.jsonl a.jsonl.1` and a new a.jsonl lose no record of a
// follow source (the rotated file is finished, the new one read from its start), and the
// savepoint's offsets, shown by inspect as byte offsets per absolute path, restore past it.
func TestFollowSurvivesRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", strings.NewReplacer("NAME", "rotating", "FOLLOW", "true").Replace(sinkPipeline))
	h.write("in.jsonl", "{\"n\": 1}\n{\"n\": 2}\n{\"n\": 3}\n")
	id := h.detach("run", "-d", "p.yaml")
	testkit.Eventually(t, 10*time.Second, "three records out", func() bool { return len(nonEmptyLines(h.read("out.jsonl"))) == 3 })
	h.appendLines("in.jsonl", `{"n": 4}`, `{"n": 5}`, `{"n": 6}`)
	if err := os.Rename(h.path("in.jsonl"), h.path("in.jsonl.1")); err != nil {
		t.Fatal(err)
	}
	h.write("in.jsonl", "{\"n\": 7}\n")
	want := "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n{\"n\":6}\n{\"n\":7}\n"
	testkit.Eventually(t, 10*time.Second, "seven records out", func() bool { return len(nonEmptyLines(h.read("out.jsonl"))) >= 7 })
	sp := strings.TrimSpace(h.mustRun(0, "stop", id).stdout)
	if got := h.read("out.jsonl"); got != want {
		t.Fatalf("after a rotation the sink holds\n%s\nwant\n%s", got, want)
	}
	var doc struct {
		Operators []struct {
			UID     string           `json:"uid"`
			Offsets map[string]int64 `json:"offsets"`
		} `json:"operators"`
	}
	if err := json.Unmarshal([]byte(h.mustRun(0, "inspect", sp, "--output", "json").stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Operators[0].Offsets; len(got) != 1 || got[h.path("in.jsonl")] != 9 {
		t.Errorf("inspect offsets %v, want {%q: 9}", got, h.path("in.jsonl"))
	}
	h.appendLines("in.jsonl", `{"n": 8}`)
	id = h.detach("run", "-d", "p.yaml", "--from-savepoint", sp)
	testkit.Eventually(t, 10*time.Second, "the record after the savepoint", func() bool {
		return h.read("out.jsonl") == want+"{\"n\":8}\n"
	})
	h.mustRun(0, "cancel", id)
}

// TestDiskAlmostFull: a job whose state directory's disk is below the free-space margin
// fails cleanly (exit 1, a sentence naming the state directory) and keeps its last
// checkpoint: the next run with room resumes from it, and the output is that of an
// uninterrupted run.
func TestDiskAlmostFull(t *testing.T) {
	t.Parallel()
	want := referenceOutput(t, checkpointPipeline)
	h, checkpoints := killedAfterCheckpoint(t)

	full := h.runEnv([]string{"PIPECTL_MIN_FREE_DISK=1048576TiB"}, "run", "p.yaml")
	if full.code != 1 || !strings.Contains(full.stdout+full.stderr, "is almost full") {
		t.Fatalf("run on a full disk: exit %d\n%s%s", full.code, full.stdout, full.stderr)
	}
	if completeCheckpoints(checkpoints) == 0 {
		t.Fatal("the failed run removed the checkpoint")
	}
	res := h.mustRun(0, "run", "p.yaml")
	if !strings.Contains(res.stderr, "Resuming from checkpoint") {
		t.Errorf("the run with room does not resume:\n%s", res.stderr)
	}
	if got := sortedLines(h.read("out.jsonl")); got != want {
		t.Errorf("after the full disk the sink holds\n%s\nan uninterrupted run\n%s", got, want)
	}
}
