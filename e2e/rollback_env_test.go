package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestPitStopRollbackKeepsTheJobsEnvironment: a job whose pipeline reads its input and output
// paths from ${…} is upgraded, from a shell without those variables, to a pipeline that fails
// at start. The restarted old pipeline resolves them as the old job did: it goes on reading
// and writing the original files, exactly once, and creates none of the defaults.
func TestPitStopRollbackKeepsTheJobsEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("real.jsonl", readings(0, 50))
	h.pipeline("counter.yaml", "old.yaml", map[string]string{"SOURCE": "real.jsonl", "FOLLOW": "true", "SINK": "real-out.jsonl"})
	raw, err := os.ReadFile("testdata/pipelines/counter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h.write("new.yaml", strings.NewReplacer("${SOURCE:-events.jsonl}", "missing-new.jsonl", "${SINK:-out.jsonl}", "new-out.jsonl").Replace(string(raw)))
	id := h.detach("run", "-d", "old.yaml")
	testkit.Eventually(t, 20*time.Second, "the old job's output", func() bool { return len(nonEmptyLines(h.read("real-out.jsonl"))) == 50 })

	if fi, err := os.Stat(filepath.Join(h.jobDir(id), "env.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the job folder's env.json: %v, %v; want mode 0600", fi, err)
	}

	res := h.must(1, h.run("upgrade", "new.yaml", "--job", id, "-d"))
	m := regexp.MustCompile(`the old pipeline was restarted from \S+ as job ([0-9a-f]{32})`).FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("upgrade does not say the old pipeline was restarted:\n%s", res.stderr)
	}
	restarted := m[1]
	h.cleanupJob(restarted)

	h.appendLines("real.jsonl", nonEmptyLines(readings(50, 80))...)
	if !testkit.Poll(20*time.Second, func() bool { return len(nonEmptyLines(h.read("real-out.jsonl"))) >= 80 }) {
		t.Fatalf("the restarted job did not go on with real.jsonl into real-out.jsonl (%d lines):\n%s",
			len(nonEmptyLines(h.read("real-out.jsonl"))), h.jobFile(restarted, "job.log"))
	}
	checkCounted(t, "real-out.jsonl", h.read("real-out.jsonl"), 80)
	for _, name := range []string{"out.jsonl", "events.jsonl"} {
		if _, err := os.Stat(h.path(name)); err == nil {
			t.Errorf("the restarted job created %s: it resolved the variables in the upgrade's environment", name)
		}
	}
	if st := h.status(restarted); st != "RUNNING" {
		t.Errorf("restarted job %s, want RUNNING", st)
	}
}
