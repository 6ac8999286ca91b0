package e2e

import (
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestFollowRecordsReachSinksWhileRunning checks that a job on a `follow` source delivers its
// records while it runs (a partly filled batch and a sink's buffer wait at most
// buffer_timeout, 100 ms), not only at a savepoint or at the end: to stdout.jsonl of a
// detached job, and to a file sink.
func TestFollowRecordsReachSinksWhileRunning(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, pipeline, source string
		sink                   func(h *harness, id string) string
		want                   string
	}{
		{"stdout sink of a detached job", "motion-alarm.yaml", "events.jsonl",
			func(h *harness, id string) string { return sortedLines(h.jobFile(id, "stdout.jsonl")) },
			"{\"type\":\"ALARM\",\"room\":1,\"time\":2000}\n{\"type\":\"ALARM\",\"room\":1,\"time\":9000}\n{\"type\":\"ALARM\",\"room\":2,\"time\":12000}\n"},
		{"file sink", "counter.yaml", "readings.jsonl",
			func(h *harness, _ string) string { return sortedLines(h.read("out.jsonl")) },
			sortedLines("{\"id\":0,\"room\":0,\"n\":1}\n{\"id\":1,\"room\":1,\"n\":1}\n{\"id\":7,\"room\":0,\"n\":2}\n")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.motionEvents("events.jsonl", -1)
			h.write("readings.jsonl", reading(0)+"\n"+reading(1)+"\n"+reading(7)+"\n")
			h.pipeline(c.pipeline, "follow.yaml", map[string]string{"FOLLOW": "true", "SOURCE": c.source})
			id := h.detach("run", "-d", "follow.yaml")
			testkit.Eventually(t, outputTimeout, "the records in the sink", func() bool { return c.sink(h, id) == c.want })
		})
	}
}

// TestProcessWithoutTimers runs a `process` operator that declares no on_timer.
func TestProcessWithoutTimers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.motionEvents("events.jsonl", -1)
	h.pipeline("alarm-process.yaml", "p.yaml", nil)
	res := h.mustRun(0, "run", "p.yaml")
	testkit.Golden(t, "testdata/examples/motion-alarm.golden", sortedLines(res.stdout))
}
