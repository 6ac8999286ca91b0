package runtime

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// operatorStatus is the status of one uid.
func operatorStatus(t *testing.T, j *Job, uid string) OperatorCount {
	t.Helper()
	for _, c := range j.Status().Records {
		if c.UID == uid {
			return c
		}
	}
	t.Fatalf("no status for %q", uid)
	return OperatorCount{}
}

func TestStatusStateSizesAndSnapshotHook(t *testing.T) {
	h := newHarness(t, statebackend.KindMemory)
	hj := h.mustJob(snapshotPipeline, jobSpec{vars: snapVars("2", slowRate), checkpointDir: h.path("checkpoints")})
	var got []SnapshotInfo
	done := make(chan struct{}, 4)
	hj.job.OnSnapshot(func(s SnapshotInfo) { got = append(got, s); done <- struct{}{} })
	hj.start()
	testkit.Eventually(t, jobDeadline, "some output", func() bool { return recordsOut(hj.job, "running") >= 200 })

	st := operatorStatus(t, hj.job, "running")
	if len(st.States) != 1 || st.States[0].Bytes != 0 {
		t.Fatalf("states of running before any snapshot: %+v, want one of 0 bytes", st.States)
	}

	res, err := hj.job.Savepoint(h.path("savepoints"), "manual")
	if err != nil {
		t.Fatal(err)
	}
	<-done
	cp, err := hj.job.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	<-done
	hj.job.Cancel()
	if err := hj.wait(); !errors.Is(err, ErrCanceled) {
		t.Fatalf("run: %v", err)
	}

	sp, err := savepoints.Open(cp.Path)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, o := range sp.Meta.Operators {
		for _, s := range o.States {
			if o.UID == "running" {
				want = s.Bytes
			}
		}
	}
	if b := operatorStatus(t, hj.job, "running").States[0].Bytes; b != want || b == 0 {
		t.Errorf("state bytes %d after the checkpoint, want %d as written", b, want)
	}
	if len(got) != 2 {
		t.Fatalf("hook saw %d snapshots, want 2: %+v", len(got), got)
	}
	for i, w := range []struct {
		trigger string
		res     *SavepointResult
	}{{"manual", res}, {"checkpoint", cp}} {
		s := got[i]
		if s.Trigger != w.trigger || s.Path != w.res.Path || s.Bytes != w.res.Bytes || s.DurationMs != w.res.Duration || s.Time.IsZero() {
			t.Errorf("snapshot %d: %+v, want %s %+v", i, s, w.trigger, *w.res)
		}
		if s.Checkpoint() != (w.trigger == "checkpoint") {
			t.Errorf("snapshot %d: Checkpoint() = %v", i, s.Checkpoint())
		}
	}
}

// slowConsumer is a pipeline whose keyed operator burns time on every record, so the
// source, which could go much faster, spends most of its time waiting on a full inbox.
const slowConsumer = `name: slow
parallelism: 1
state_backend: memory
sources:
  - uid: fast
    kind: generator
    fn: "i => ({k: i % 3, i})"
    schema: {k: int, i: int}
operators:
  - uid: slow
    kind: reduce
    input: fast
    key_by: k
    fn: "(a, b) => { let x = 0; for (let n = 0; n < 1000; n++) x += n; return b }"
sinks:
  - uid: out
    kind: stdout
    input: slow
`

func TestBackpressure(t *testing.T) {
	h := newHarness(t, statebackend.KindMemory)
	hj := h.mustJob(slowConsumer, jobSpec{}).start()
	defer func() {
		hj.job.Cancel()
		hj.wait()
	}()
	testkit.Eventually(t, jobDeadline, "backpressure at the source", func() bool {
		return operatorStatus(t, hj.job, "fast").Backpressure > 0.5
	})
	for _, uid := range []string{"slow", "out"} {
		if bp := operatorStatus(t, hj.job, uid).Backpressure; bp > 0.5 {
			t.Errorf("%s: backpressure %v; its own output is not the bottleneck", uid, bp)
		}
	}
}

func TestPressureSampler(t *testing.T) {
	var p pressureSampler
	idle, stuck, half := &blockTimer{}, &blockTimer{}, &blockTimer{}
	timers := []*blockTimer{idle, stuck, half}
	if r := p.sample(timers); len(r) != 0 {
		t.Errorf("first sample %v, want no ratios yet", r)
	}
	start := time.Now()
	stuck.since.Store(start.UnixNano()) // a wait that never ends
	// Wait out one interval (polling the sampler, not sleeping a guessed time).
	var r map[*blockTimer]float64
	testkit.Poll(3*pressureInterval, func() bool {
		r = p.sample(timers)
		return len(r) > 0
	})
	half.total.Store(int64(time.Since(start)) / 2)
	if r[idle] != 0 || r[stuck] < 0.5 || r[stuck] > 1 {
		t.Errorf("ratios idle %v, stuck %v; want 0 and most of the interval", r[idle], r[stuck])
	}
	if again := p.sample(timers); again[half] != r[half] {
		t.Errorf("a sample within the interval changed: %v then %v", r[half], again[half])
	}
}

func TestLowestWatermark(t *testing.T) {
	tests := []struct {
		name string
		wms  []int64
		want int64
	}{
		{"no subtasks", nil, 0},
		{"no event time yet", []int64{0, 0}, 0},
		{"an idle subtask holds nothing back", []int64{0, 4999, 0}, 4999},
		{"the lowest of those with one", []int64{7000, 4999, 0}, 4999},
	}
	for _, tt := range tests {
		var ins []*instance
		for _, wm := range tt.wms {
			in := &instance{}
			in.lastWatermark.Store(wm)
			ins = append(ins, in)
		}
		if got := lowestWatermark(ins); got != tt.want {
			t.Errorf("%s: lowestWatermark(%v) = %d, want %d", tt.name, tt.wms, got, tt.want)
		}
	}
}

// TestStateEntriesCountKeys: the entries a keyed state reports are the keys present, on both
// backends, whether or not its cache wrote them back yet: keys written, deleted (also one that
// was never there), and those a job restored.
func TestStateEntriesCountKeys(t *testing.T) {
	process := `
  - uid: out
    kind: process
    input: events
    key_by: k
    states:
      last: int
    output: {k: string}
    fn: |
      (e, ctx) => {
        if (e.tag === "del") ctx.state.last.clear(); else ctx.state.last.set(e.v)
        ctx.emit({k: e.k})
      }`
	events := []string{`{k: "a", v: 1, tag: "x"}`, `{k: "b", v: 2, tag: "x"}`, `{k: "c", v: 3, tag: "x"}`,
		`{k: "b", v: 0, tag: "del"}`, `{k: "d", v: 4, tag: "x"}`, `{k: "a", v: 5, tag: "x"}`, `{k: "e", v: 0, tag: "del"}`}
	src := genPipeline(kv, events, process)
	want := []StateCount{{UID: "out", State: "last", Entries: 3}}
	for _, backend := range []string{statebackend.KindBadger, statebackend.KindMemory} {
		t.Run(backend, func(t *testing.T) {
			h := newHarness(t, backend)
			hj := h.mustJob(src, jobSpec{finalSavepointDir: h.path("savepoints")})
			if err := hj.start().wait(); err != nil {
				t.Fatal(err)
			}
			if got := hj.job.StateEntries(); !slices.Equal(got, want) {
				t.Errorf("after the run: %+v, want %+v", got, want)
			}
			restored := h.mustJob(src, jobSpec{restore: hj.job.FinalSavepoint().Path, vars: map[string]string{"COUNT": "0"}})
			if err := restored.start().wait(); err != nil {
				t.Fatal(err)
			}
			if got := restored.job.StateEntries(); !slices.Equal(got, want) {
				t.Errorf("restored: %+v, want %+v", got, want)
			}
		})
	}
}
