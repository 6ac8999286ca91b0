package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestStateGainsOptionalField restores a `process` operator's record state into a pipeline
// whose state type gained an optional field: check-compat says compatible after migration
// (FIELD_ADDED_OPTIONAL), the restore migrates the entries (`"by":null`), and new entries
// carry the field.
func TestStateGainsOptionalField(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"badger", "memory"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.motionEvents("events.jsonl", -1)
			vars := map[string]string{"BACKEND": backend}
			h.pipeline("alarm-process.yaml", "v1.yaml", vars)
			h.pipeline("alarm-process-by.yaml", "v2.yaml", vars)
			res := h.mustRun(0, "run", "v1.yaml", "--final-savepoint")
			testkit.Golden(t, "testdata/examples/motion-alarm.golden", sortedLines(res.stdout))
			sp := finalSavepoint(t, res.stderr)
			testkit.Golden(t, "testdata/migration/before.golden", h.dump(sp, "alarm-evaluator", "--state", "alarm"))

			var rep compatReport
			out := h.mustRun(0, "check-compat", "v2.yaml", "--savepoint", sp, "--format", "json").stdout
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			var verdicts []string
			for _, r := range rep.Results {
				if r.State != nil && *r.State == "alarm" {
					verdicts = append(verdicts, r.Verdict+" "+r.Rule)
				}
			}
			if got := strings.Join(verdicts, ", "); got != "compatible-after-migration FIELD_ADDED_OPTIONAL" {
				t.Errorf("alarm-evaluator/alarm: %q, want compatible-after-migration FIELD_ADDED_OPTIONAL", got)
			}

			h.appendLines("events.jsonl",
				`{"type":"activate","room":4,"time":50000,"by":"ann"}`,
				`{"type":"motion","room":4,"time":51000}`,
				`{"type":"motion","room":2,"time":52000}`)
			res = h.mustRun(0, "run", "v2.yaml", "--from-savepoint", sp, "--final-savepoint")
			testkit.Golden(t, "testdata/migration/alarms-after.golden", sortedLines(res.stdout))
			testkit.Golden(t, "testdata/migration/after.golden", h.dump(finalSavepoint(t, res.stderr), "alarm-evaluator", "--state", "alarm"))
		})
	}
}
