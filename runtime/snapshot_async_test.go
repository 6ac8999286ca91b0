package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// asyncJob is a running keyed count per room on badger, driven record by record.
type asyncJob struct {
	t    *testing.T
	job  *Job
	c    *stepConnectors
	sink *eventSink
	dir  string
	done chan error
}

// eventSink is a listSink that also records the snapshot calls it gets, in order.
type eventSink struct {
	listSink
	emu    sync.Mutex
	events []string
}

func (s *eventSink) Committed() (connectors.Offsets, error) {
	s.emu.Lock()
	defer s.emu.Unlock()
	s.events = append(s.events, "part")
	return nil, nil
}

func (s *eventSink) SnapshotComplete(connectors.Offsets) error {
	s.emu.Lock()
	defer s.emu.Unlock()
	s.events = append(s.events, "complete")
	return nil
}

func startAsyncJob(t *testing.T) *asyncJob {
	t.Helper()
	dir := t.TempDir()
	p := parseTest(t, dir, roomCounter)
	for _, n := range p.Order {
		n.Parallelism = 1
	}
	b, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindBadger, Dir: filepath.Join(dir, "state"), Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	sink := &eventSink{}
	c := &stepConnectors{src: &stepSource{in: make(chan any), done: make(chan error, 1)}}
	aj := &asyncJob{t: t, c: c, sink: sink, dir: dir, done: make(chan error, 1)}
	aj.job, err = New(Config{Pipeline: p, JobID: "0123456789abcdef0123456789abcdef", Backend: b,
		Connectors: sinkOverride{c, sink}, CheckpointDir: filepath.Join(dir, "cp")})
	if err != nil {
		t.Fatal(err)
	}
	go func() { aj.done <- aj.job.Run(context.Background()) }()
	t.Cleanup(func() {
		close(c.src.in)
		if err := awaitRun(t, aj.job, aj.done); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return aj
}

// sinkOverride hands out the step source and a given sink.
type sinkOverride struct {
	*stepConnectors
	sink connectors.Sink
}

func (o sinkOverride) Sink(*pipeline.Node, int) (connectors.Sink, error) { return o.sink, nil }

// emit sends rooms through the job and waits until the sink holds want records.
func (aj *asyncJob) emit(want int, rooms ...int64) {
	aj.t.Helper()
	for _, r := range rooms {
		if err := aj.c.src.step(map[string]any{"room": r}); err != nil {
			aj.t.Fatal(err)
		}
	}
	deadline := time.Now().Add(jobDeadline)
	for aj.sink.len() < want {
		if time.Now().After(deadline) {
			aj.t.Fatalf("the sink holds %d records, want %d", aj.sink.len(), want)
		}
		time.Sleep(time.Millisecond) // polling
	}
}

// idleUntil makes the source idle (taking any barrier queued into it) until ch is ready.
func idleUntil[T any](t *testing.T, src *stepSource, ch <-chan T) T {
	t.Helper()
	deadline := time.Now().Add(jobDeadline)
	for {
		if err := src.step(nil); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-ch:
			return v
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// savepointResult is what Savepoint returned.
type savepointResult struct {
	res *SavepointResult
	err error
}

// savepoint starts a savepoint in the background.
func (aj *asyncJob) savepoint() <-chan savepointResult {
	ch := make(chan savepointResult, 1)
	go func() {
		res, err := aj.job.Savepoint(filepath.Join(aj.dir, "sp"), "manual")
		ch <- savepointResult{res, err}
	}()
	return ch
}

// counts reads the per-room counts of a savepoint.
func (aj *asyncJob) counts(path string) map[int64]int64 {
	aj.t.Helper()
	n := aj.job.p.Nodes["count"]
	out := map[int64]int64{}
	err := openSavepoint(aj.t, path).ReadState("count", n.States[0].Name, func(_ uint16, key, value []byte) error {
		k, _, err := n.KeyType().DecodeBinary(key)
		if err != nil {
			return err
		}
		v, _, err := n.States[0].Schema.DecodeBinary(value)
		if err != nil {
			return err
		}
		out[k.(int64)] = v.(int64)
		return nil
	})
	if err != nil {
		aj.t.Fatal(err)
	}
	return out
}

// setHook installs asyncPhaseHook for the test.
func setHook(t *testing.T, hook func() error) {
	asyncPhaseHook = hook
	t.Cleanup(func() { asyncPhaseHook = nil })
}

// TestAsyncSnapshotPhase: records processed while a savepoint's asynchronous phase runs flow
// to the sink at once, are not in that savepoint and are in the next one.
func TestAsyncSnapshotPhase(t *testing.T) {
	aj := startAsyncJob(t)
	aj.emit(2, 1, 2)
	entered, release := make(chan struct{}), make(chan struct{})
	setHook(t, func() error {
		entered <- struct{}{}
		<-release
		return nil
	})
	first := aj.savepoint()
	idleUntil(t, aj.c.src, entered)
	aj.emit(4, 1, 3) // processed while the savepoint is being written
	select {
	case r := <-first:
		t.Fatalf("the savepoint completed during its asynchronous phase: %+v", r)
	default:
	}
	close(release)
	r1 := <-first
	if r1.err != nil {
		t.Fatal(r1.err)
	}
	asyncPhaseHook = nil
	r2 := idleUntil(t, aj.c.src, aj.savepoint())
	if r2.err != nil {
		t.Fatal(r2.err)
	}
	if got, want := aj.counts(r1.res.Path), map[int64]int64{1: 1, 2: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("first savepoint %v, want %v", got, want)
	}
	if got, want := aj.counts(r2.res.Path), map[int64]int64{1: 2, 2: 1, 3: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("second savepoint %v, want %v", got, want)
	}
}

// TestAsyncSnapshotFailure: a failing asynchronous phase fails the savepoint, leaves no
// directory behind, and the job goes on.
func TestAsyncSnapshotFailure(t *testing.T) {
	aj := startAsyncJob(t)
	aj.emit(1, 1)
	setHook(t, func() error { return errors.New("disk on fire") })
	r := idleUntil(t, aj.c.src, aj.savepoint())
	wantErrContaining(t, r.err, "disk on fire", `"count"`)
	if ents, _ := os.ReadDir(filepath.Join(aj.dir, "sp")); len(ents) > 0 {
		t.Errorf("the failed savepoint left %d entries in the savepoint dir", len(ents))
	}
	asyncPhaseHook = nil
	aj.emit(2, 1)
	r = idleUntil(t, aj.c.src, aj.savepoint())
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got, want := aj.counts(r.res.Path), map[int64]int64{1: 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("savepoint %v, want %v", got, want)
	}
}

// TestBarriersDoNotOverlap: a checkpoint asked for while a savepoint is in flight waits until
// the savepoint completed, so a sink never gives a second part before the first completed (an
// exactly-once Kafka sink has one open transaction per snapshot).
func TestBarriersDoNotOverlap(t *testing.T) {
	aj := startAsyncJob(t)
	aj.emit(1, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	setHook(t, func() error {
		entered <- struct{}{}
		<-release
		return nil
	})
	sp := aj.savepoint()
	idleUntil(t, aj.c.src, entered)
	cp := make(chan error, 1)
	go func() {
		_, err := aj.job.Checkpoint()
		cp <- err
	}()
	deadline := time.Now().Add(jobDeadline)
	for aj.job.coord.waiting.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the checkpoint never waited for the savepoint in flight")
		}
		time.Sleep(time.Millisecond) // polling
	}
	close(release)
	if r := <-sp; r.err != nil {
		t.Fatal(r.err)
	}
	asyncPhaseHook = nil
	if err := idleUntil(t, aj.c.src, cp); err != nil {
		t.Fatal(err)
	}
	aj.sink.emu.Lock()
	defer aj.sink.emu.Unlock()
	if want := []string{"part", "complete", "part", "complete"}; !reflect.DeepEqual(aj.sink.events, want) {
		t.Errorf("sink calls %v, want %v", aj.sink.events, want)
	}
}
