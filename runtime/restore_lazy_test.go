package runtime

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// lazyKeys is the number of keys of the lazy restore tests: enough that, loading one entry
// per step, the background load is still running when the restored job takes its first
// snapshots.
const lazyKeys = 20000

// lazyPipeline counts events per key; event i is for key i % lazyKeys, and every seventh
// event (i % 7 == 3) deletes its key's state. Events [0, lazyKeys) build the state, events
// [lazyKeys, 2*lazyKeys) touch every restored key once more (a put or a delete).
func lazyPipeline(count int) string {
	return `name: lazy
parallelism: 2
max_parallelism: 64
sources:
  - uid: events
    kind: generator
    count: ` + strconv.Itoa(count) + `
    schema: "{k: string, i: int}"
    fn: "i => ({k: 'k' + (i % ` + strconv.Itoa(lazyKeys) + `), i: i})"
operators:
  - uid: count
    kind: flat_map_with_state
    input: events
    key_by: k
    state: int
    output: int
    fn: "(e, s) => [[], e.i % 7 === 3 ? null : (s || 0) + 1]"
sinks:
  - {uid: sink, kind: stdout, input: count}
`
}

// stateDump returns every entry of every state of a savepoint, as "uid/state kg key=value".
func stateDump(t *testing.T, path string) []string {
	t.Helper()
	sp := openSavepoint(t, path)
	var out []string
	for _, op := range sp.Meta.Operators {
		for _, st := range op.States {
			err := sp.ReadState(op.UID, st.Name, func(kg uint16, key, value []byte) error {
				out = append(out, fmt.Sprintf("%s/%s %d %x=%x", op.UID, st.Name, kg, key, value))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestLazyRestoreSameState restores a state lazily (badger) and eagerly and checks that both
// end with the same state, with every restored key written or deleted while the background
// load runs, and that a checkpoint and a savepoint taken during the load hold a consistent
// state: restored eagerly, each finishes with the same state too. The restored job checks
// the mapped entries and values meanwhile (restoreCheck), so all of it runs at once.
func TestLazyRestoreSameState(t *testing.T) {
	defer func(busy, idle int) { loadStepBusy, loadStepIdle = busy, idle }(loadStepBusy, loadStepIdle)
	loadStepBusy, loadStepIdle = 1, 1
	h := newHarness(t, statebackend.KindBadger)
	first := h.mustJob(lazyPipeline(lazyKeys), jobSpec{finalSavepointDir: h.path("sp")}).start()
	if err := first.wait(); err != nil {
		t.Fatal(err)
	}
	sp0 := first.job.FinalSavepoint().Path

	// The rest of the events, from sp0, to the end: the final state is the reference.
	finish := func(from string, eager bool) []string {
		t.Helper()
		p, err := h.parse(lazyPipeline(2*lazyKeys), nil)
		if err != nil {
			t.Fatal(err)
		}
		be := h.openBackend()
		j, err := New(Config{Pipeline: p, JobID: "00112233445566778899aabbccddeeff", Backend: be,
			Restore: openSavepoint(t, from), EagerRestore: eager, FinalSavepointDir: h.path("final")})
		if err != nil {
			t.Fatal(err)
		}
		if got := j.loading.Load() > 0; got == eager {
			t.Fatalf("eager %v: background load running: %v", eager, got)
		}
		hj := &harnessJob{h: h, job: j, done: make(chan error, 1)}
		if err := hj.start().wait(); err != nil {
			t.Fatal(err)
		}
		return stateDump(t, j.FinalSavepoint().Path)
	}
	want := finish(sp0, true)
	if len(want) < lazyKeys/2 {
		t.Fatalf("the reference state holds %d entries", len(want))
	}
	if got := finish(sp0, false); !slices.Equal(got, want) {
		t.Fatalf("lazy restore ends with %d entries, eager with %d", len(got), len(want))
	}

	// Snapshots taken while the background load runs. On a loaded machine the load may end
	// before them: the run is then repeated (a fresh job from sp0), a few times at most.
	var snaps []string
	for attempt := 1; snaps == nil; attempt++ {
		snaps = snapshotsDuringLoad(t, h, sp0)
		if snaps == nil && attempt == 3 {
			t.Fatal("the background load ended before the snapshots in 3 runs: the test proves nothing")
		}
	}
	for _, from := range snaps {
		if got := finish(from, true); !slices.Equal(got, want) {
			t.Errorf("restored from a snapshot taken during the load, the job ends with %d entries, want %d", len(got), len(want))
		}
	}
}

// snapshotsDuringLoad runs the rest of the events from sp0, restored lazily, and takes a
// checkpoint and two savepoints meanwhile; it returns their paths, or nil when the background
// load had ended before the first savepoint was taken.
func snapshotsDuringLoad(t *testing.T, h *harness, sp0 string) []string {
	t.Helper()
	p, err := h.parse(lazyPipeline(2*lazyKeys), nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := New(Config{Pipeline: p, JobID: "00112233445566778899aabbccddeeff", Backend: h.openBackend(),
		Restore: openSavepoint(t, sp0), CheckpointDir: h.path("cp")})
	if err != nil {
		t.Fatal(err)
	}
	hj := &harnessJob{h: h, job: j, done: make(chan error, 1)}
	hj.start()
	cp, err := j.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := j.Savepoint(h.path("sp"), "manual")
	if err != nil {
		t.Fatal(err)
	}
	during := j.loading.Load() > 0
	// A second savepoint, from the state the first one's load and check left.
	sp2, err := j.Savepoint(h.path("sp"), "manual")
	if err != nil {
		t.Fatal(err)
	}
	if err := hj.wait(); err != nil {
		t.Fatal(err)
	}
	if !during {
		return nil
	}
	return []string{cp.Path, sp.Path, sp2.Path}
}
