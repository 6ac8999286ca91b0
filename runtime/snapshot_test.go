package runtime

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// snapshotPipeline generates 3000 records of 5 keys at ${RATE} records/s, keeps a running
// count and sum per key, and writes every record with its key's running values to a file
// sink. Each output line is unique and depends only on the records of its key before it, so
// the file of a run that was interrupted and restored must equal that of one that was not.
const snapshotPipeline = `name: snap
parallelism: ${PAR}
max_parallelism: 16
state_backend: memory
sources:
  - uid: events
    kind: generator
    count: 3000
    rate: ${RATE}
    fn: "i => ({k: 'k' + (i % 5), i})"
    schema: {k: string, i: int}
operators:
  - uid: running
    kind: flat_map_with_state
    input: events
    key_by: k
    state: "(int, int)"
    output: {k: string, i: int, n: int, sum: int}
    fn: |
      (e, s) => {
        const n = (s ? s[0] : 0) + 1, sum = (s ? s[1] : 0) + e.i
        return [[{k: e.k, i: e.i, n, sum}], [n, sum]]
      }
sinks:
  - {uid: sink, kind: file, input: running, path: out/result.jsonl}
`

// snapshotRecords is the count of snapshotPipeline.
const snapshotRecords = 3000

// Rates of snapshotPipeline: slow enough to snapshot mid-way, and as fast as it goes.
const (
	slowRate = "3000"
	fastRate = "100000000"
)

// snapVars are the ${VAR}s of snapshotPipeline.
func snapVars(par, rate string) map[string]string {
	return map[string]string{"PAR": par, "RATE": rate}
}

// referenceOutput is the sorted file output of an uninterrupted run of snapshotPipeline.
func referenceOutput(t *testing.T) []string {
	t.Helper()
	h := newHarness(t, statebackend.KindMemory)
	h.mustRun(snapshotPipeline, jobSpec{vars: snapVars("1", fastRate)})
	out := sorted(h.fileLines("out/result.jsonl"))
	if len(out) != snapshotRecords {
		t.Fatalf("the reference run wrote %d records, want %d", len(out), snapshotRecords)
	}
	return out
}

// startSlow starts snapshotPipeline slowly at parallelism par and waits until its keyed
// operator has emitted some records.
func startSlow(h *harness, par string, s jobSpec) *harnessJob {
	h.t.Helper()
	s.vars = snapVars(par, slowRate)
	hj := h.mustJob(snapshotPipeline, s).start()
	testkit.Eventually(h.t, jobDeadline, "some output", func() bool { return recordsOut(hj.job, "running") >= 200 })
	return hj
}

// recordsOut is the number of records a uid emitted so far.
func recordsOut(j *Job, uid string) int64 {
	for _, c := range j.Status().Records {
		if c.UID == uid {
			return c.Out
		}
	}
	return 0
}

// coveredPrefix checks that the sink file, cut to the sink's committed length in sp, holds
// exactly the reference records of the source indexes the savepoint covers.
func coveredPrefix(t *testing.T, h *harness, sp *savepoints.Savepoint, ref []string) {
	t.Helper()
	var next, length int64 = -1, -1
	for _, o := range sp.Meta.Operators {
		switch o.UID {
		case "events":
			next = o.Offsets["next"]
		case "sink":
			length = o.Offsets["length"]
		}
	}
	if next <= 0 || next >= snapshotRecords || length <= 0 {
		t.Fatalf("savepoint offsets: next %d, sink length %d: want a snapshot mid-way", next, length)
	}
	b, err := os.ReadFile(h.path("out/result.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) < length {
		t.Fatalf("the sink file is %d bytes, shorter than its committed %d", len(b), length)
	}
	var want []string
	for _, l := range ref {
		if jsonInt(t, l, "i") < next {
			want = append(want, l)
		}
	}
	diffLines(t, sorted(splitLines(string(b[:length]))), want)
}

func TestSavepointCancelRestore(t *testing.T) {
	ref := referenceOutput(t)
	for _, c := range []struct {
		backend     string
		par, newPar string
	}{
		{statebackend.KindMemory, "2", "1"},
		{statebackend.KindMemory, "2", "2"},
		{statebackend.KindMemory, "1", "3"},
		{statebackend.KindBadger, "3", "2"},
	} {
		t.Run(fmt.Sprintf("%s/%s-to-%s", c.backend, c.par, c.newPar), func(t *testing.T) {
			h := newHarness(t, c.backend)
			hj := startSlow(h, c.par, jobSpec{})
			res, err := hj.job.Savepoint(h.path("savepoints"), "manual")
			if err != nil {
				t.Fatalf("savepoint: %v", err)
			}
			// Let the job run on past the savepoint, so that the file holds records after it.
			after := recordsOut(hj.job, "running") + 100
			testkit.Eventually(t, jobDeadline, "records after the savepoint", func() bool { return recordsOut(hj.job, "running") >= after })
			hj.job.Cancel()
			if err := hj.wait(); !errors.Is(err, ErrCanceled) {
				t.Fatalf("run after cancel: %v, want ErrCanceled", err)
			}
			sp, err := savepoints.Open(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			if sp.Meta.Trigger != "manual" {
				t.Errorf("trigger %q, want manual", sp.Meta.Trigger)
			}
			coveredPrefix(t, h, sp, ref)

			restored := h.mustJob(snapshotPipeline, jobSpec{vars: snapVars(c.newPar, fastRate), restore: res.Path})
			if r := restored.job.Restored(); r == nil || r.States != 1 || r.Entries != 5 {
				t.Errorf("restore summary %+v, want 5 entries of 1 state", r)
			}
			if err := restored.start().wait(); err != nil {
				t.Fatalf("restored run: %v", err)
			}
			diffLines(t, sorted(h.fileLines("out/result.jsonl")), ref)
		})
	}
}

// TestStopWithSavepoint stops a job with a savepoint, plainly and incrementally (a savepoint
// while it runs, then the stop's as a delta of it: a pit stop), and restores it.
func TestStopWithSavepoint(t *testing.T) {
	ref := referenceOutput(t)
	stops := map[string]func(j *Job, dir string) (*SavepointResult, error){
		"plain":       func(j *Job, dir string) (*SavepointResult, error) { return j.StopWithSavepoint(dir, false) },
		"incremental": (*Job).StopIncrementally,
	}
	for _, backend := range []string{statebackend.KindMemory, statebackend.KindBadger} {
		for name, stop := range stops {
			t.Run(backend+"/"+name, func(t *testing.T) {
				testStopWithSavepoint(t, ref, backend, stop)
			})
		}
	}
}

func testStopWithSavepoint(t *testing.T, ref []string, backend string, stop func(j *Job, dir string) (*SavepointResult, error)) {
	h := newHarness(t, backend)
	hj := startSlow(h, "2", jobSpec{})
	res, err := stop(hj.job, h.path("savepoints"))
	if err != nil {
		t.Fatalf("stop with savepoint: %v", err)
	}
	if left, _ := os.ReadDir(h.path("savepoints")); len(left) != 1 {
		t.Errorf("the savepoint directory holds %d entries, want the stop's savepoint alone", len(left))
	}
	if err := hj.wait(); err != nil {
		t.Fatalf("run after stop: %v", err)
	}
	sp, err := savepoints.Open(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Meta.Trigger != "stop" {
		t.Errorf("trigger %q, want stop", sp.Meta.Trigger)
	}
	coveredPrefix(t, h, sp, ref)
	for _, o := range sp.Meta.Operators {
		if fi, err := os.Stat(h.path("out/result.jsonl")); o.UID == "sink" && (err != nil || fi.Size() != o.Offsets["length"]) {
			t.Errorf("after the stop the sink file is %v bytes (%v), want exactly the committed %d", fi.Size(), err, o.Offsets["length"])
		}
	}
	h.mustRun(snapshotPipeline, jobSpec{vars: snapVars("3", fastRate), restore: res.Path})
	diffLines(t, sorted(h.fileLines("out/result.jsonl")), ref)
}

func TestSavepointOfFinishedJobFails(t *testing.T) {
	h := newHarness(t, statebackend.KindMemory)
	hj := h.mustJob(snapshotPipeline, jobSpec{vars: snapVars("1", fastRate)}).start()
	if err := hj.wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := hj.job.Savepoint(h.path("savepoints"), "manual"); !errors.Is(err, ErrJobEnded) {
		t.Errorf("savepoint of a finished job: %v, want ErrJobEnded", err)
	}
}

func TestCheckpoints(t *testing.T) {
	ref := referenceOutput(t)
	h := newHarness(t, statebackend.KindMemory)
	cpDir := h.path("checkpoints")
	if sp, err := LatestCheckpoint(cpDir); sp != nil || err != nil {
		t.Fatalf("LatestCheckpoint of a missing dir: %v, %v; want nil, nil", sp, err)
	}
	hj := startSlow(h, "2", jobSpec{checkpointDir: cpDir, checkpointInterval: 20 * time.Millisecond})
	var first *savepoints.Savepoint
	testkit.Eventually(t, jobDeadline, "a checkpoint", func() bool {
		sp, err := LatestCheckpoint(cpDir)
		if err != nil {
			t.Fatal(err)
		}
		first = sp
		return sp != nil
	})
	testkit.Eventually(t, jobDeadline, "a later checkpoint", func() bool {
		sp, err := LatestCheckpoint(cpDir)
		if err != nil {
			t.Fatal(err)
		}
		return sp != nil && sp.Meta.Created.After(first.Meta.Created)
	})
	hj.job.Cancel()
	if err := hj.wait(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("run after cancel: %v, want ErrCanceled", err)
	}
	// Debris that is not a complete checkpoint is ignored.
	h.writeFile("checkpoints/.tmp-partial/_metadata.json", "{")
	h.writeFile("checkpoints/garbage/_metadata.json", "not json")
	latest, err := LatestCheckpoint(cpDir)
	if err != nil || latest == nil {
		t.Fatalf("LatestCheckpoint: %v, %v", latest, err)
	}
	if latest.Meta.Trigger != "checkpoint" {
		t.Errorf("trigger %q, want checkpoint", latest.Meta.Trigger)
	}
	if n := completeSnapshots(t, cpDir); n != 1 {
		t.Errorf("%d complete checkpoints kept, want only the latest", n)
	}
	coveredPrefix(t, h, latest, ref)

	h.mustRun(snapshotPipeline, jobSpec{vars: snapVars("3", fastRate), restore: latest.Path})
	diffLines(t, sorted(h.fileLines("out/result.jsonl")), ref)

	if err := RemoveCheckpoints(cpDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cpDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveCheckpoints: stat %s: %v", cpDir, err)
	}
	if sp, err := LatestCheckpoint(cpDir); sp != nil || err != nil {
		t.Errorf("LatestCheckpoint after RemoveCheckpoints: %v, %v; want nil, nil", sp, err)
	}
	if err := RemoveCheckpoints(cpDir); err != nil {
		t.Errorf("RemoveCheckpoints of a missing dir: %v", err)
	}
}

// completeSnapshots counts the directories of dir that open as savepoints.
func completeSnapshots(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if _, err := savepoints.Open(filepath.Join(dir, e.Name())); err == nil {
			n++
		}
	}
	return n
}

// TestStopLeavesStateToItsSavepoint checks that a job stopped with a savepoint writes nothing
// back to its backend when its instances finish (the savepoint holds the state and the next
// job starts from it), and that with a final savepoint configured the stop's savepoint is the
// final one: no second savepoint is written after it.
func TestStopLeavesStateToItsSavepoint(t *testing.T) {
	for _, tc := range []struct {
		name           string
		finalSavepoint bool
	}{
		{"no final savepoint", false},
		{"final savepoint", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, statebackend.KindBadger)
			spec := jobSpec{}
			if tc.finalSavepoint {
				spec.finalSavepointDir = h.path("final")
			}
			hj := startSlow(h, "1", spec)
			res, err := hj.job.StopWithSavepoint(h.path("savepoints"), false)
			if err != nil {
				t.Fatalf("stop with savepoint: %v", err)
			}
			if err := hj.wait(); err != nil {
				t.Fatalf("run after stop: %v", err)
			}
			sp := openSavepoint(t, res.Path)
			want, got := map[string]string{}, map[string]string{}
			for _, o := range sp.Meta.Operators {
				for _, st := range o.States {
					collect := func(into map[string]string) func(kg uint16, key, value []byte) error {
						return func(kg uint16, key, value []byte) error {
							into[fmt.Sprintf("%s/%s/%d/%x", o.UID, st.Name, kg, key)] = string(value)
							return nil
						}
					}
					if err := sp.ReadState(o.UID, st.Name, collect(want)); err != nil {
						t.Fatal(err)
					}
					tb, err := hj.backend.Table(o.UID, st.Name)
					if err != nil {
						t.Fatal(err)
					}
					if err := tb.Scan(0, uint16(hj.job.maxPar), collect(got)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("the stop savepoint holds no state")
			}
			if maps.Equal(got, want) {
				t.Errorf("the backend holds the savepoint's state (%d entries): it was written back", len(got))
			}
			if fs := hj.job.FinalSavepoint(); fs != nil {
				t.Errorf("a final savepoint %s after the stop's", fs.Path)
			}
			if left, _ := os.ReadDir(h.path("final")); len(left) != 0 {
				t.Errorf("the final savepoint directory holds %d entries after a stop, want none", len(left))
			}
		})
	}
}

// TestRestoreOffsetsForGenerator: a parallel generator resumes each subtask at its own next
// index when the parallelism is the one of the snapshot, and every subtask at the lowest one
// when it changed (its subtasks share the indices out differently then).
// TestSourceOffsetsGenerator: a parallel generator's snapshot keeps each subtask's next index
// and, as "next", the lowest: every index below it has been generated.
func TestSourceOffsetsGenerator(t *testing.T) {
	parts := func(nexts ...int64) []*snapshotPart {
		var out []*snapshotPart
		for _, n := range nexts {
			out = append(out, &snapshotPart{offsets: connectors.Offsets{"next": n}})
		}
		return out
	}
	gen := &pipeline.Node{Kind: "generator"}
	if got, want := sourceOffsets(gen, parts(120, 97, 101)), map[string]int64{"next": 97, "next/0": 120, "next/1": 97, "next/2": 101}; !maps.Equal(got, want) {
		t.Errorf("three subtasks: %v, want %v", got, want)
	}
	if got, want := sourceOffsets(gen, parts(42)), map[string]int64{"next": 42}; !maps.Equal(got, want) {
		t.Errorf("one subtask: %v, want %v", got, want)
	}
}

func TestRestoreOffsetsForGenerator(t *testing.T) {
	gen := func(par int) *pipeline.Node { return &pipeline.Node{Kind: "generator", Parallelism: par} }
	two := map[string]int64{"next/0": 120, "next/1": 97}
	tests := []struct {
		name    string
		node    *pipeline.Node
		subtask int
		off     map[string]int64
		want    map[string]int64
	}{
		{"same parallelism, subtask 0", gen(2), 0, two, map[string]int64{"next": 120}},
		{"same parallelism, subtask 1", gen(2), 1, two, map[string]int64{"next": 97}},
		{"2 to 3, subtask 0", gen(3), 0, two, map[string]int64{"next": 97}},
		{"2 to 3, subtask 2", gen(3), 2, two, map[string]int64{"next": 97}},
		{"2 to 1", gen(1), 0, two, map[string]int64{"next": 97}},
		{"1 to 2", gen(2), 1, map[string]int64{"next": 50}, map[string]int64{"next": 50}},
		// savepoints now keep "next", the lowest, beside next/<i>
		{"2 to 3 with next", gen(3), 1, map[string]int64{"next": 97, "next/0": 120, "next/1": 97}, map[string]int64{"next": 97}},
		{"same parallelism with next", gen(2), 0, map[string]int64{"next": 97, "next/0": 120, "next/1": 97}, map[string]int64{"next": 120}},
		{"not a generator", &pipeline.Node{Kind: "file", Parallelism: 2}, 1, map[string]int64{"/a": 3}, map[string]int64{"/a": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := restoreOffsetsFor(tt.node, tt.subtask, tt.off); !maps.Equal(got, tt.want) {
				t.Errorf("restoreOffsetsFor = %v, want %v", got, tt.want)
			}
		})
	}
}
