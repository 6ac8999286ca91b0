package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/manualclock"
	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// jobDeadline bounds how long a test waits for a job or a condition.
const jobDeadline = 60 * time.Second

// harness runs pipelines written as YAML strings. The pipeline file lives in a temporary
// directory, so relative paths of file sources, file sinks and dead-letter files are temp
// files there.
type harness struct {
	t       *testing.T
	dir     string
	backend string // statebackend kind of every job: memory or badger
	jobs    int    // jobs opened so far (each badger job gets its own directory)
}

// newHarness returns a harness whose jobs keep their state in the given backend kind.
func newHarness(t *testing.T, backend string) *harness {
	t.Helper()
	return &harness{t: t, dir: t.TempDir(), backend: backend}
}

// jobSpec is how one job of a harness runs.
type jobSpec struct {
	vars               map[string]string // ${VAR} values of the pipeline file
	restore            string            // savepoint or checkpoint path to restore from
	allowNonRestored   bool
	now                func() time.Time
	checkpointDir      string
	checkpointInterval time.Duration
	finalSavepointDir  string
	clock              *manualclock.Clock // when set, the job's clock (and its Now)
}

// harnessJob is one planned job of a harness and its captured stdout.
type harnessJob struct {
	h       *harness
	job     *Job
	backend statebackend.Backend
	stdout  *testkit.Buffer
	done    chan error
}

// parse loads a pipeline written for a test as the file pipeline.yaml of the harness dir.
func (h *harness) parse(src string, vars map[string]string) (*pipeline.Pipeline, error) {
	lookup := func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
	return pipeline.Parse(filepath.Join(h.dir, "pipeline.yaml"), []byte(src), pipeline.LoadOptions{LookupEnv: lookup})
}

// openBackend opens a fresh backend of the harness kind, closed when the test ends.
func (h *harness) openBackend() statebackend.Backend {
	h.t.Helper()
	h.jobs++
	opts := statebackend.Options{Kind: h.backend, Fresh: true}
	if h.backend == statebackend.KindBadger {
		opts.Dir = filepath.Join(h.t.TempDir(), "state")
	}
	b, err := statebackend.Open(opts)
	if err != nil {
		h.t.Fatalf("open %s backend: %v", h.backend, err)
	}
	h.t.Cleanup(func() { b.Close() })
	return b
}

// newJob parses src and plans its job (restoring s.restore when set); errors of New are
// returned, errors of the test's own setup fail the test.
func (h *harness) newJob(src string, s jobSpec) (*harnessJob, error) {
	h.t.Helper()
	p, err := h.parse(src, s.vars)
	if err != nil {
		h.t.Fatalf("parse: %v", err)
	}
	hj := &harnessJob{h: h, backend: h.openBackend(), stdout: &testkit.Buffer{}, done: make(chan error, 1)}
	cfg := Config{
		Pipeline: p, JobID: "00112233445566778899aabbccddeeff", Backend: hj.backend,
		Stdout: hj.stdout, Now: s.now, AllowNonRestoredState: s.allowNonRestored,
		CheckpointDir: s.checkpointDir, CheckpointInterval: s.checkpointInterval,
		FinalSavepointDir: s.finalSavepointDir,
	}
	if s.clock != nil {
		cfg.Clock, cfg.Now = s.clock, s.clock.Now
	}
	if s.restore != "" {
		cfg.Restore = openSavepoint(h.t, s.restore)
	}
	if hj.job, err = New(cfg); err != nil {
		return nil, err
	}
	return hj, nil
}

// mustJob is newJob for jobs that must plan.
func (h *harness) mustJob(src string, s jobSpec) *harnessJob {
	h.t.Helper()
	hj, err := h.newJob(src, s)
	if err != nil {
		h.t.Fatalf("new job: %v", err)
	}
	return hj
}

// start runs the job in the background.
func (hj *harnessJob) start() *harnessJob {
	go func() { hj.done <- hj.job.Run(context.Background()) }()
	return hj
}

// wait returns Run's result (see awaitRun).
func (hj *harnessJob) wait() error {
	hj.h.t.Helper()
	return awaitRun(hj.h.t, hj.job, hj.done)
}

// awaitRun returns the result of job's Run, received from done; a job still running at
// jobDeadline is canceled and fails the test.
func awaitRun(t testing.TB, job *Job, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(jobDeadline):
		job.Cancel()
		<-done
		t.Fatalf("the job did not end within %s", jobDeadline)
		return nil
	}
}

// sortedOutput waits for a job that must succeed and returns its output lines, sorted.
func (hj *harnessJob) sortedOutput() []string {
	hj.h.t.Helper()
	if err := hj.wait(); err != nil {
		hj.h.t.Fatalf("run: %v", err)
	}
	return sorted(hj.lines())
}

// lines returns the stdout sinks' output lines in the order written.
func (hj *harnessJob) lines() []string { return splitLines(hj.stdout.String()) }

// run runs a bounded pipeline to its end and returns its stdout lines and Run's error.
func (h *harness) run(src string, s jobSpec) ([]string, error) {
	h.t.Helper()
	hj, err := h.newJob(src, s)
	if err != nil {
		return nil, err
	}
	err = hj.start().wait()
	return hj.lines(), err
}

// mustRun is run for jobs that must succeed.
func (h *harness) mustRun(src string, s jobSpec) []string {
	h.t.Helper()
	lines, err := h.run(src, s)
	if err != nil {
		h.t.Fatalf("run: %v", err)
	}
	return lines
}

// path is the absolute path of a file in the harness dir.
func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

// writeFile writes a file in the harness dir (creating its directory).
func (h *harness) writeFile(name, content string) {
	h.t.Helper()
	testkit.WriteFile(h.t, h.path(name), content)
}

// fileLines returns the lines of a file in the harness dir (none when it does not exist).
func (h *harness) fileLines(name string) []string {
	h.t.Helper()
	b, err := os.ReadFile(h.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return splitLines(string(b))
}

// splitLines splits output into its non-empty lines, in order.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sorted returns a sorted copy of lines.
func sorted(lines []string) []string {
	out := append([]string(nil), lines...)
	sort.Strings(out)
	return out
}

// wantErrContaining fails unless err is non-nil and its message holds every part.
func wantErrContaining(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// diffLines reports got against want, one line per record.
func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// roomCounter counts the records of each room in a flat_map_with_state, between a file source
// that tests replace (Config.Connectors) and a stdout sink.
const roomCounter = `
name: room-counter
sources:
  - {uid: in, kind: file, path: none.jsonl, schema: "{room: int}"}
operators:
  - uid: count
    kind: flat_map_with_state
    input: in
    key_by: room
    state: int
    output: {room: int, n: int}
    fn: |
      (e, s) => { const n = (s || 0) + 1; return [[{room: e.room, n}], n] }
sinks:
  - {uid: out, kind: stdout, input: count}
`
