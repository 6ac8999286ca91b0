package e2e

import (
	"strings"
	"testing"
)

// TestReprocessIntoANewSinkPath: to reprocess history from an old savepoint without cutting
// the file the old version wrote, the new version points its file sink at a new path; the
// restore then starts that file empty instead of refusing it as "shorter than its committed
// length", and the old file is left as it was.
func TestReprocessIntoANewSinkPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const v1 = `name: reprocess
sources:
  - {uid: numbers, kind: generator, count: 20, schema: "{n: int}", fn: "i => ({n: i})"}
operators:
  - {uid: sums, kind: sum, input: numbers, key_by: n, field: n}
sinks:
  - {uid: out, kind: file, path: out.jsonl, input: sums}
`
	h.write("v1.yaml", v1)
	sp := finalSavepoint(t, h.mustRun(0, "run", "v1.yaml", "--final-savepoint", "--savepoint-dir", "sps").stderr)
	old := h.read("out.jsonl")
	h.write("v2.yaml", strings.Replace(v1, "path: out.jsonl", "path: out-v2.jsonl", 1))
	h.mustRun(0, "run", "v2.yaml", "--from-savepoint", sp)
	if h.read("out.jsonl") != old {
		t.Error("the restore into a new path changed the old version's file")
	}
	if got := h.read("out-v2.jsonl"); got != "" {
		t.Errorf("the new file holds %q, want it empty (the savepoint was taken at the end of the input)", got)
	}
}
