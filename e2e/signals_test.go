package e2e

import (
	"os"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// runningJob waits until `pipectl list` shows exactly one running job and returns its id.
func (h *harness) runningJob() string {
	h.t.Helper()
	var id string
	testkit.Eventually(h.t, 20*time.Second, "one job RUNNING in pipectl list", func() bool {
		jobs := h.list(false)
		if len(jobs) == 1 {
			id = jobs[0].ID
		}
		return id != ""
	})
	return id
}

// TestSignalStopsForegroundRun sends SIGTERM or SIGINT to a foreground `run` of a follow
// source: the job stops cleanly (exit 0) with every record it read in its sinks.
func TestSignalStopsForegroundRun(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.motionEvents("events.jsonl", -1)
			h.pipeline("motion-alarm.yaml", "follow.yaml", map[string]string{"FOLLOW": "true"})
			run := h.start("run", "follow.yaml")
			want := sortedLines(readGolden(t, "examples/motion-alarm.golden"))
			testkit.Eventually(t, outputTimeout, "the three alarms on stdout", func() bool {
				return sortedLines(run.stdout.String()) == want
			})
			run.signal(t, sig)
			if code := run.wait(t, 20*time.Second); code != 0 {
				t.Errorf("exit %d after %v, want 0\nstderr:\n%s", code, sig, run.stderr.String())
			}
			if got := sortedLines(run.stdout.String()); got != want {
				t.Errorf("stdout:\n%swant:\n%s", got, want)
			}
			if regexp.MustCompile(`(?m)^savepoint: `).MatchString(run.stderr.String()) {
				t.Errorf("a savepoint without --final-savepoint:\n%s", run.stderr.String())
			}
		})
	}
}

// TestSignalFinalSavepoint stops a foreground run with --final-savepoint by a signal while its
// file sink has unflushed records: stderr names the savepoint, the sink holds exactly the
// records the savepoint covers, and restoring the savepoint continues with the rest.
func TestSignalFinalSavepoint(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	input := h.write("readings.jsonl", readings(0, 300))
	h.pipeline("counter.yaml", "follow.yaml", map[string]string{"FOLLOW": "true", "SOURCE": "readings.jsonl"})
	run := h.start("run", "follow.yaml", "--final-savepoint")
	id := h.runningJob()
	h.waitCovered(id, "readings", "readings.jsonl")
	h.appendLines("readings.jsonl", nonEmptyLines(readings(300, 600))...)
	run.signal(t, syscall.SIGTERM)
	if code := run.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\nstderr:\n%s", code, run.stderr.String())
	}
	if run.stdout.String() != "" {
		t.Errorf("stdout %q: the pipeline has no stdout sink", run.stdout.String())
	}
	final := finalSavepoint(t, run.stderr.String())
	if tr := h.inspect(final).Trigger; tr != "final" {
		t.Errorf("final savepoint trigger %q, want final", tr)
	}
	covered := recordsBefore(t, h.read("readings.jsonl"), h.offset(final, "readings", "readings.jsonl"))
	checkCounted(t, "sink after SIGTERM", h.read("out.jsonl"), covered)
	if st := h.status(id); st != "STOPPED" && st != "FINISHED" {
		t.Errorf("status after SIGTERM: %q", st)
	}

	h.appendLines("readings.jsonl", nonEmptyLines(readings(600, 650))...)
	h.pipeline("counter.yaml", "bounded.yaml", map[string]string{"SOURCE": input})
	h.mustRun(0, "run", "bounded.yaml", "--from-savepoint", final)
	checkCounted(t, "sink after the restore", h.read("out.jsonl"), 650)
}

// readGolden reads testdata/<name>.
func readGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
