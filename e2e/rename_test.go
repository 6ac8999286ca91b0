package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// renamedCounter renames every uid of the counter pipeline, each listing its old uid in
// previous_uids.
func renamedCounter(src string) string {
	return strings.NewReplacer(
		"  - uid: readings\n", "  - uid: readings-v2\n    previous_uids: [readings]\n",
		"  - uid: per-room\n", "  - uid: room-counts\n    previous_uids: [per-room]\n",
		"    input: readings\n", "    input: readings-v2\n",
		"  - uid: counted\n", "  - uid: counted-v2\n    previous_uids: [counted]\n",
		"    input: per-room", "    input: room-counts",
	).Replace(src)
}

// TestRenameWithPreviousUIDs takes a savepoint of the counter pipeline, renames every uid
// with previous_uids, checks the compat report, and restores: the counts per room, the read
// position and the sink's file carry over, so the output equals one run over all the input.
func TestRenameWithPreviousUIDs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vars := map[string]string{"PAR": "1"}
	h.write("events.jsonl", readings(0, 100))
	orig := h.pipeline("counter.yaml", "counter.yaml", vars)
	sp := finalSavepoint(t, h.mustRun(0, "run", "counter.yaml", "--final-savepoint").stderr)
	h.bindEnv(h.write("renamed.yaml", renamedCounter(h.read(orig))), vars)
	h.appendLines("events.jsonl", nonEmptyLines(readings(100, 150))...)

	rep := h.mustRun(0, "check-compat", "renamed.yaml", "--savepoint", sp)
	for _, want := range []string{
		"room-counts/value  STATE_UNCHANGED", "(renamed from per-room: UID_RENAMED)",
		"(renamed from readings: UID_RENAMED)", "(renamed from counted: UID_RENAMED)",
		"0 incompatible, 0 dropped, 0 new",
	} {
		if !strings.Contains(rep.stdout, want) {
			t.Errorf("check-compat lacks %q:\n%s", want, rep.stdout)
		}
	}
	var js struct {
		Compatible bool
		Results    []struct {
			UID         string  `json:"uid"`
			Verdict     string  `json:"verdict"`
			RenamedFrom *string `json:"renamed_from"`
		}
	}
	out := h.mustRun(0, "check-compat", "renamed.yaml", "--savepoint", sp, "--format", "json").stdout
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("check-compat --format json: %v\n%s", err, out)
	}
	renamed := map[string]string{}
	for _, r := range js.Results {
		if r.RenamedFrom != nil {
			renamed[r.UID] = *r.RenamedFrom
		}
	}
	if !js.Compatible || renamed["room-counts"] != "per-room" || renamed["readings-v2"] != "readings" || len(renamed) != 3 {
		t.Errorf("JSON report: compatible %v, renamed_from %v\n%s", js.Compatible, renamed, out)
	}

	// Without previous_uids the same renames drop the state: the restore is refused.
	h.bindEnv(h.write("bare.yaml", strings.ReplaceAll(renamedCounter(h.read(orig)), "    previous_uids: [per-room]\n", "")), vars)
	if res := h.mustRun(1, "run", "bare.yaml", "--from-savepoint", sp); !strings.Contains(res.stderr, "per-room") {
		t.Errorf("the refusal does not name per-room:\n%s", res.stderr)
	}

	res := h.mustRun(0, "run", "renamed.yaml", "--from-savepoint", sp)
	if !strings.Contains(res.stderr, "Restored") {
		t.Errorf("no restore line:\n%s", res.stderr)
	}
	got := h.read("out.jsonl")

	// One uninterrupted run over all 150 readings.
	clean := newHarness(t)
	clean.write("events.jsonl", readings(0, 150))
	clean.pipeline("counter.yaml", "counter.yaml", vars)
	clean.mustRun(0, "run", "counter.yaml")
	if want := clean.read("out.jsonl"); got != want {
		t.Errorf("the renamed pipeline's output differs from one run over all input\n--- got\n%s--- want\n%s", got, want)
	}
}
