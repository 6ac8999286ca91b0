package compat_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/compat"
	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// perRun is how many records each operator takes in before the savepoint, and how many the
// restored job reads past it: the count the cases were written with.
const perRun = 30

// jobDeadline bounds each wait of the test: a job reaching perRun records, a restored job
// finishing.
const jobDeadline = 20 * time.Second

// TestVerdictAgreesWithRestore is the proof that matters for check-compat: for every case of
// testdata/*.txtar, the verdict on a real savepoint of old.yaml agrees with what a real restore
// of new.yaml from that savepoint does. Compatible cases restore and run to the end; incompatible
// ones are refused (or fail while running).
//
// How a case runs (every case's sources are generators; any other source kind fails the test):
//   - old.yaml runs with its generators made unbounded (Count -1, set on the parsed pipeline),
//     so that a savepoint taken in flight holds open windows and pending joins too, not only the
//     states a bounded job leaves behind after its end-of-input watermark fired everything.
//     Once every operator has taken in perRun records, the test takes a manual savepoint and
//     cancels the job.
//   - new.yaml restores from it with each generator bounded at perRun records past the furthest
//     restored offset, so the restored job reads fresh records against the restored (and
//     migrated) state, fires its windows at the end of input, and must finish without error.
//   - The restored job must restore every entry of the savepoint that it does not drop (with
//     --allow-non-restored-state): a state the checker counts as restored is not lost silently.
//   - testdata/agreement/<case>.old.yaml, when there, is the old pipeline of the case: for a
//     case whose old side is a savepoint's metadata (old.json), the pipeline that savepoint comes
//     from; for a case whose old function never writes the state the case is about, the same
//     pipeline with a function that does, so that the migration runs on data. Its states must be
//     the case's: the report check below compares with the case's report.txt.
//
// Besides the agreement: the verdict is the case's own (report.json's `compatible`), and the
// report on the real savepoint reads exactly as the case's report.txt (made from Describe of the
// old pipeline, or from old.json), so the checker judges a real savepoint as it judges the old
// pipeline's description; and each pipeline is judged compatible, every state unchanged, with a
// real savepoint of its own (old.yaml's, and new.yaml's final one when it ran).
//
// A few states stay empty in the savepoint because no function of the case writes them (logged):
// rule-map-key-changed's `seen` (refused on its schema alone) and the `history` that
// rule-state-dropped and rule-state-dropped-allowed drop.
func TestVerdictAgreesWithRestore(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test cases in testdata (%v)", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := loadAgreementCase(t, file)
			sp := savepointOf(t, c.old)
			checkSelfCompatible(t, "old.yaml", sp, c.old)
			rep := compat.Check(sp.Meta, c.new, compat.Options{AllowNonRestoredState: c.allow})
			rep.RelativeTo(c.dir)
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			final, restoreErr := restoreAndRun(t, c.new, sp, c.allow)
			if rep.Compatible != (restoreErr == nil) {
				t.Errorf("verdict compatible=%v, but the restore and run gave error %v\n%s",
					rep.Compatible, restoreErr, text.String())
			}
			if final != nil {
				checkSelfCompatible(t, "new.yaml", final, c.new)
			}
			if rep.Compatible != c.compatible {
				t.Errorf("verdict compatible=%v on a real savepoint, but the case's report.json says %v",
					rep.Compatible, c.compatible)
			}
			if text.String() != c.report {
				t.Errorf("report on a real savepoint differs from report.txt\n--- got\n%s--- want\n%s",
					text.String(), c.report)
			}
		})
	}
}

// agreementCase is one txtar case, loaded.
type agreementCase struct {
	dir        string             // where the case's files were written
	old, new   *pipeline.Pipeline // parsed from dir/old.yaml and dir/new.yaml
	allow      bool               // flags holds allow-non-restored-state
	report     string             // the expected report.txt
	compatible bool               // the expected verdict (report.json's `compatible`)
}

// loadAgreementCase writes the case's files into a temporary directory (old.yaml taken from
// testdata/agreement when it holds one for the case) and parses both pipelines there.
func loadAgreementCase(t *testing.T, file string) *agreementCase {
	t.Helper()
	files := map[string][]byte{}
	for _, f := range testkit.ReadArchive(t, file).Files {
		files[f.Name] = f.Data
	}
	name := strings.TrimSuffix(filepath.Base(file), ".txtar")
	switch old, err := os.ReadFile(filepath.Join("testdata", "agreement", name+".old.yaml")); {
	case err == nil:
		files["old.yaml"] = old
	case !errors.Is(err, fs.ErrNotExist):
		t.Fatal(err)
	case files["old.yaml"] == nil:
		t.Fatalf("the case has no old.yaml, and testdata/agreement no pipeline to make its savepoint from")
	}
	c := &agreementCase{dir: t.TempDir(), report: string(files["report.txt"])}
	for n, d := range files {
		if err := os.WriteFile(filepath.Join(c.dir, n), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want struct{ Compatible *bool }
	if err := json.Unmarshal(files["report.json"], &want); err != nil || want.Compatible == nil {
		t.Fatalf("report.json: no `compatible` (%v)", err)
	}
	c.compatible = *want.Compatible
	c.allow = slices.Contains(strings.Fields(string(files["flags"])), "allow-non-restored-state")
	c.old = parse(t, filepath.Join(c.dir, "old.yaml"), files["old.yaml"])
	c.new = parse(t, filepath.Join(c.dir, "new.yaml"), files["new.yaml"])
	return c
}

func parse(t *testing.T, path string, data []byte) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Parse(path, data, pipeline.LoadOptions{})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return p
}

// jobID is a 32-hex job id derived from the test's name.
func jobID(t *testing.T, side string) string {
	sum := sha256.Sum256([]byte(t.Name() + "/" + side))
	return hex.EncodeToString(sum[:16])
}

// generators returns p's sources, failing the test for a source that is not a generator: the
// test bounds and unbounds its input by the generators' count.
func generators(t *testing.T, p *pipeline.Pipeline) []*pipeline.Node {
	t.Helper()
	for _, n := range p.Sources {
		if n.Kind != "generator" {
			t.Fatalf("source %q is a %s: the agreement test drives generator sources only", n.UID, n.Kind)
		}
	}
	return p.Sources
}

// savepointOf runs p with unbounded generators until every operator took in perRun records,
// takes a manual savepoint, cancels the job and opens the savepoint.
func savepointOf(t *testing.T, p *pipeline.Pipeline) *savepoints.Savepoint {
	t.Helper()
	for _, n := range generators(t, p) {
		n.Count = -1
	}
	be := memoryBackend(t)
	job, err := runtime.New(runtime.Config{Pipeline: p, JobID: jobID(t, "old"), Backend: be, Stdout: io.Discard})
	if err != nil {
		t.Fatalf("old.yaml: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- job.Run(context.Background()) }()
	defer func() {
		job.Cancel()
		if err := <-done; !errors.Is(err, runtime.ErrCanceled) {
			t.Errorf("old.yaml: the job ended with %v", err)
		}
	}()
	waitFor(t, job, func() bool {
		for _, c := range job.Status().Records {
			if p.Nodes[c.UID].Role == pipeline.RoleOperator && c.In < perRun {
				return false
			}
		}
		return true
	})
	res, err := job.Savepoint(filepath.Join(t.TempDir(), "savepoints"), "manual")
	if err != nil {
		t.Fatalf("old.yaml: savepoint: %v", err)
	}
	sp, err := savepoints.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	logEmptyStates(t, sp.Meta)
	return sp
}

// waitFor polls cond until it holds, failing the test when the job ends first or after
// jobDeadline.
func waitFor(t *testing.T, job *runtime.Job, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(jobDeadline)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("old.yaml: no %d records through every operator within %v: %+v", perRun, jobDeadline, job.Status().Records)
		}
		select {
		case <-job.Done():
			t.Fatalf("old.yaml: the job ended before %d records went through every operator", perRun)
		case <-tick.C:
		}
	}
}

// logEmptyStates notes the states of the savepoint that hold no entry (their functions never
// wrote them): their migrations are judged by schema only, without data.
func logEmptyStates(t *testing.T, meta *savepoints.Metadata) {
	t.Helper()
	for _, op := range meta.Operators {
		for _, s := range op.States {
			if s.Entries == 0 {
				t.Logf("savepoint state %s/%s holds no entries", op.UID, s.Name)
			}
		}
	}
}

// restoreAndRun restores p from sp on a fresh memory backend and runs it to the end, its
// generators bounded perRun records past the furthest restored offset, and returns the final
// savepoint it wrote. The error is the restore's refusal or the run's failure.
func restoreAndRun(t *testing.T, p *pipeline.Pipeline, sp *savepoints.Savepoint, allow bool) (*savepoints.Savepoint, error) {
	t.Helper()
	var furthest int64
	for _, op := range sp.Meta.Operators {
		for _, off := range op.Offsets {
			furthest = max(furthest, off)
		}
	}
	for _, n := range generators(t, p) {
		n.Count = furthest + perRun
	}
	job, err := runtime.New(runtime.Config{
		Pipeline: p, JobID: jobID(t, "new"), Backend: memoryBackend(t), Stdout: io.Discard,
		Restore: sp, AllowNonRestoredState: allow, FinalSavepointDir: filepath.Join(t.TempDir(), "final"),
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), jobDeadline)
	defer cancel()
	if err := job.Run(ctx); err != nil {
		return nil, fmt.Errorf("run after restore: %w", err)
	}
	if got, want := job.Restored().Entries, keptEntries(sp.Meta, job.Restored().Dropped); got != want {
		t.Errorf("new.yaml restored %d entries, want %d (every entry of the savepoint but those dropped): %s",
			got, want, job.Restored())
	}
	final, err := savepoints.Open(job.FinalSavepoint().Path)
	if err != nil {
		t.Fatalf("new.yaml: final savepoint: %v", err)
	}
	return final, nil
}

// checkSelfCompatible checks p (the pipeline file name) against a savepoint of its own
// run: an upgrade that changes nothing must be judged compatible, every uid and state
// unchanged (an `any` state with its warning).
func checkSelfCompatible(t *testing.T, name string, sp *savepoints.Savepoint, p *pipeline.Pipeline) {
	t.Helper()
	rep := compat.Check(sp.Meta, p, compat.Options{})
	for _, r := range rep.Results {
		if r.Verdict != schema.Compatible || (r.Rule != schema.RuleStateUnchanged && r.Rule != schema.RuleUntypedState) {
			t.Errorf("%s against a savepoint of its own: %s %s %s: %s", name, r.Name(), r.Verdict, r.Rule, r.Reason)
		}
	}
	if !rep.Compatible {
		t.Errorf("%s is not compatible with a savepoint of its own", name)
	}
}

// keptEntries is the number of entries of meta's states but those dropped ("uid/state").
func keptEntries(meta *savepoints.Metadata, dropped []string) int64 {
	var n int64
	for _, op := range meta.Operators {
		for _, s := range op.States {
			if !slices.Contains(dropped, op.UID+"/"+s.Name) {
				n += s.Entries
			}
		}
	}
	return n
}

// memoryBackend opens a memory state backend, closed when the test ends.
func memoryBackend(t *testing.T) statebackend.Backend {
	t.Helper()
	be, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}
