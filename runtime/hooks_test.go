package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// stepSource emits the records sent on its channel, one Emit and one Idle each, and ends
// when the channel is closed; a nil record only idles. It answers on done once Emit and Idle
// have returned (Sync covers the records whose Emit has returned).
type stepSource struct {
	in   chan any
	done chan error
}

// step hands the source one record (nil: only idle) and waits until it is emitted.
func (s *stepSource) step(rec any) error {
	s.in <- rec
	return <-s.done
}

func (s *stepSource) Restore(connectors.Offsets) error { return nil }
func (s *stepSource) Offsets() connectors.Offsets      { return nil }
func (s *stepSource) Bounded() bool                    { return true }
func (s *stepSource) Run(ctx connectors.SourceContext) error {
	for rec := range s.in {
		var err error
		if rec != nil {
			err = ctx.Emit(rec)
		}
		if err == nil {
			err = ctx.Idle()
		}
		s.done <- err
		if err != nil {
			return err
		}
	}
	return nil
}

// listSink keeps what it receives.
type listSink struct {
	mu   sync.Mutex
	recs []any
}

func (s *listSink) Write(rec any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, rec)
	return nil
}
func (s *listSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}
func (s *listSink) Flush() error                           { return nil }
func (s *listSink) Committed() (connectors.Offsets, error) { return nil, nil }
func (s *listSink) Restore(connectors.Offsets) error       { return nil }
func (s *listSink) Close() error                           { return nil }

// stepConnectors hands out one stepSource and one listSink.
type stepConnectors struct {
	src  *stepSource
	sink *listSink
}

func (c *stepConnectors) Source(*pipeline.Node, int) (connectors.Source, error) { return c.src, nil }
func (c *stepConnectors) Sink(*pipeline.Node, int) (connectors.Sink, error)     { return c.sink, nil }

// TestSyncAndStateAccess drives a keyed pipeline record by record through Config.Connectors:
// after each Sync the record's output has reached the sink, state written with StateAccess
// before the run is seen by the operator, and the final state is read back after it.
func TestSyncAndStateAccess(t *testing.T) {
	p := parseTest(t, t.TempDir(), roomCounter)
	for _, n := range p.Order {
		n.Parallelism = 1
	}
	b, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	node := p.Nodes["count"]
	nowMs := func() int64 { return 0 }
	seed, err := NewStateAccess(b, p, node, node.States[0], nowMs)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Put(int64(7), int64(41)); err != nil {
		t.Fatal(err)
	}
	if err := seed.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStateAccess(b, p, p.Nodes["in"], node.States[0], nowMs); err == nil {
		t.Error("StateAccess of a source: no error")
	}

	c := &stepConnectors{src: &stepSource{in: make(chan any), done: make(chan error, 1)}, sink: &listSink{}}
	job, err := New(Config{Pipeline: p, JobID: "0123456789abcdef0123456789abcdef", Backend: b, Connectors: c})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- job.Run(context.Background()) }()
	for i, room := range []int64{7, 1, 7} {
		if err := c.src.step(map[string]any{"room": room}); err != nil {
			t.Fatal(err)
		}
		if err := job.Sync(func() { _ = c.src.step(nil) }); err != nil {
			t.Fatal(err)
		}
		if got := c.sink.len(); got != i+1 {
			t.Fatalf("after record %d and Sync, the sink holds %d records", i+1, got)
		}
	}
	close(c.src.in)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(jobDeadline):
		job.Cancel()
		t.Fatal("the job did not end")
	}
	if err := job.Sync(func() {}); err == nil {
		t.Error("Sync of an ended job: no error")
	}
	if last := c.sink.recs[2].(map[string]any); last["n"] != int64(43) {
		t.Errorf("the last output is %v, want n=43 (41 seeded + 2)", last)
	}
	read, err := NewStateAccess(b, p, node, node.States[0], nowMs)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[int64]int64{7: 43, 1: 1} {
		if v, ok, err := read.Get(key); err != nil || !ok || v != want {
			t.Errorf("state of key %d: %v %v %v, want %d", key, v, ok, err, want)
		}
	}
	if _, ok, _ := read.Get(int64(2)); ok {
		t.Error("key 2 holds state")
	}
}
