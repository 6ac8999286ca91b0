package runtime

import (
	"testing"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// parseTest parses a pipeline written for a test, in dir (relative paths resolve there).
func parseTest(t testing.TB, dir, src string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Parse(dir+"/pipeline.yaml", []byte(src), pipeline.LoadOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// startRun plans src as dir/pipeline.yaml with a memory backend and starts it; relative
// paths of its sources and sinks resolve in dir.
func startRun(t *testing.T, dir, src string, s jobSpec) *harnessJob {
	t.Helper()
	h := &harness{t: t, dir: dir, backend: statebackend.KindMemory}
	return h.mustJob(src, s).start()
}

// runLines runs a bounded pipeline to its end and returns its sorted output lines.
func runLines(t *testing.T, src string) []string {
	t.Helper()
	return startRun(t, t.TempDir(), src, jobSpec{}).sortedOutput()
}

// openSavepoint opens a savepoint for a restore.
func openSavepoint(t *testing.T, path string) *savepoints.Savepoint {
	t.Helper()
	sp, err := savepoints.Open(path)
	if err != nil {
		t.Fatalf("open savepoint %s: %v", path, err)
	}
	return sp
}
