package e2e

import (
	"strings"
	"testing"
)

// TestEmptyGlobWarns: a glob that matches no file is a visible warning, at the path's
// position, from validate and from run (a bounded job then reads nothing).
func TestEmptyGlobWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", strings.NewReplacer("NAME", "globbing", "FOLLOW", "false", "path: in.jsonl", `path: "logs/*.jsonl"`).Replace(sinkPipeline))
	want := "p.yaml:5:5: warning: source in: no file matches " + h.path("logs/*.jsonl") + ": the job will read nothing"
	for _, args := range [][]string{{"validate", "p.yaml"}, {"run", "p.yaml"}} {
		res := h.mustRun(0, args...)
		if !strings.Contains(res.stderr, want) {
			t.Errorf("pipectl %s: stderr lacks %q:\n%s", args[0], want, res.stderr)
		}
	}
	h.write("logs/a.jsonl", "{\"n\": 1}\n")
	if res := h.mustRun(0, "validate", "p.yaml"); strings.Contains(res.stderr, "warning") {
		t.Errorf("validate warns with a matching file:\n%s", res.stderr)
	}
}
