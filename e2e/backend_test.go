package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestSavepointAcrossBackends runs the motion alarm over the motion-alarm events in three parts,
// each restoring the previous part's final savepoint on the other state backend, and checks
// the alarms and the final state against one uninterrupted run.
func TestSavepointAcrossBackends(t *testing.T) {
	t.Parallel()
	for _, order := range [][]string{{"memory", "badger", "memory"}, {"badger", "memory", "badger"}} {
		t.Run(strings.Join(order, "-"), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			events := h.motionEvents("events.jsonl", 3)
			all := h.motionEvents("all.jsonl", -1)
			var alarms, sp string
			for i, backend := range order {
				if i > 0 {
					h.appendLines("events.jsonl", all[3*i:3*i+3]...)
				}
				p := h.pipeline("motion-alarm.yaml", fmt.Sprintf("part%d.yaml", i), map[string]string{"BACKEND": backend})
				args := []string{"run", p, "--final-savepoint"}
				if sp != "" {
					args = append(args, "--from-savepoint", sp)
				}
				res := h.mustRun(0, args...)
				alarms += res.stdout
				// Savepoints are portable: each restore reads it from a new place.
				sp = moveTo(t, finalSavepoint(t, res.stderr), h.path(fmt.Sprintf("moved-%d", i)))
			}
			if len(events) != 3 || len(nonEmptyLines(h.read("events.jsonl"))) != len(all) {
				t.Fatalf("the three parts do not make up the motion-alarm events")
			}

			ref := h.pipeline("motion-alarm.yaml", "reference.yaml", map[string]string{
				"BACKEND": order[0], "SOURCE": "all.jsonl"})
			res := h.mustRun(0, "run", ref, "--final-savepoint")
			refSP := finalSavepoint(t, res.stderr)
			if sortedLines(alarms) != sortedLines(res.stdout) {
				t.Errorf("alarms over three restores:\n%swant (one run):\n%s", sortedLines(alarms), sortedLines(res.stdout))
			}
			testkit.Golden(t, "testdata/examples/motion-alarm.golden", sortedLines(alarms))
			if got, want := h.dump(sp, "alarm-evaluator"), h.dump(refSP, "alarm-evaluator"); got != want {
				t.Errorf("state after three restores:\n%swant (one run):\n%s", got, want)
			}
			if got, want := stateSummary(h.inspect(sp)), stateSummary(h.inspect(refSP)); got != want {
				t.Errorf("inspect after three restores:\n%swant (one run):\n%s", got, want)
			}
		})
	}
}

// stateSummary is what a savepoint holds per uid and state, independent of the backend that
// wrote it.
func stateSummary(info savepointInfo) string {
	var b strings.Builder
	for _, op := range info.Operators {
		for _, st := range op.States {
			fmt.Fprintf(&b, "%s/%s %s %s key %s: %d entries, %d bytes\n",
				op.UID, st.Name, st.Kind, st.Schema, st.KeyType, st.Entries, st.Bytes)
		}
	}
	return b.String()
}

// moveTo moves the directory from into the directory dir and returns its new path.
func moveTo(t *testing.T, from, dir string) string {
	t.Helper()
	to := filepath.Join(mkdir(t, dir), filepath.Base(from))
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
	return to
}
