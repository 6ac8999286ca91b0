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

// endlessKeyed is checkpointPipeline without its count and its checkpoints: an unbounded,
// paced job with keyed state that runs until it is stopped.
var endlessKeyed = strings.NewReplacer("name: checkpointed", "name: endless",
	"checkpoint: {interval: 150ms}\n", "", "    count: 3000\n", "").Replace(checkpointPipeline)

// TestStopWritesNoSecondFinalSavepoint: a job run with --final-savepoint and ended by `stop`
// or by a pit stop was savepointed by the command that ended it. That savepoint is its final
// one: the savepoint directory holds it alone, and the job's folder names no other.
func TestStopWritesNoSecondFinalSavepoint(t *testing.T) {
	t.Parallel()
	for _, end := range []string{"stop", "upgrade"} {
		t.Run(end, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.write("v1.yaml", endlessKeyed)
			id := h.detach("run", "-d", "v1.yaml", "--final-savepoint")
			testkit.Eventually(t, 20*time.Second, "the job's first output", func() bool { return len(h.read("out.jsonl")) > 0 })
			var sp string
			if end == "stop" {
				sp = h.savepointPath(h.mustRun(0, "stop", id))
			} else {
				res := h.mustRun(0, "upgrade", "v1.yaml", "--job", id, "-d")
				h.cleanupJob(strings.TrimSuffix(res.stdout, "\n"))
				m := regexp.MustCompile(`(\S+/savepoint-[0-9a-f]{6}-[0-9a-f]{12})`).FindStringSubmatch(res.stderr)
				if m == nil {
					t.Fatalf("upgrade names no savepoint:\n%s", res.stderr)
				}
				sp = m[1]
			}
			if st := h.waitEnded(id); st != "STOPPED" {
				t.Errorf("status %q, want STOPPED", st)
			}
			entries, err := os.ReadDir(filepath.Join(h.home, "savepoints"))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if len(names) != 1 || names[0] != filepath.Base(sp) {
				t.Errorf("the savepoint directory holds %v, want %s alone", names, filepath.Base(sp))
			}
			if info, _ := h.jobInfo(id); info.Savepoint != sp {
				t.Errorf("job.json savepoint %q, want %q", info.Savepoint, sp)
			}
			if log := h.jobFile(id, "job.log"); regexp.MustCompile(`(?m)^savepoint: `).MatchString(log) {
				t.Errorf("job.log reports a final savepoint after the stop's:\n%s", log)
			}
		})
	}
}
