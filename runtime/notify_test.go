package runtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// listeningSink is a listSink that waits for completed snapshots, as a Kafka sink does.
type listeningSink struct {
	listSink
	completed atomic.Int64
	closed    atomic.Bool
}

func (s *listeningSink) SnapshotComplete(connectors.Offsets) error {
	s.completed.Add(1)
	return nil
}

func (s *listeningSink) Close() error {
	s.closed.Store(true)
	return nil
}

// A sink chained directly behind its source (no operator between: it runs in the source's
// goroutine) is a sink like any other: it hears of the final checkpoint of a finishing job,
// it is closed, and its records are counted.
func TestSinkChainedToSource(t *testing.T) {
	dir := t.TempDir()
	p := parseTest(t, dir, `
name: direct
sources:
  - {uid: in, kind: file, path: none.jsonl, schema: "{room: int}"}
sinks:
  - {uid: out, kind: stdout, input: in}
`)
	b, err := statebackend.Open(statebackend.Options{Kind: statebackend.KindMemory})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sink := &listeningSink{}
	src := &stepSource{in: make(chan any), done: make(chan error, 1)}
	job, err := New(Config{Pipeline: p, JobID: "0123456789abcdef0123456789abcdef", Backend: b,
		Connectors: &chainConnectors{src: src, sink: sink}, CheckpointDir: dir, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- job.Run(context.Background()) }()
	for _, room := range []int64{1, 2, 3} {
		if err := src.step(map[string]any{"room": room}); err != nil {
			t.Fatal(err)
		}
	}
	close(src.in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.len() != 3 {
		t.Errorf("the sink got %d records, want 3", sink.len())
	}
	if sink.completed.Load() == 0 {
		t.Error("the sink never heard of a completed snapshot: what it held back for one is never committed")
	}
	if !sink.closed.Load() {
		t.Error("the sink was not closed")
	}
	var in int64
	for _, inst := range job.instancesOf("out") {
		in += inst.recordsIn.Load()
	}
	if in != 3 {
		t.Errorf("records in of the sink: %d, want 3", in)
	}
}

// chainConnectors hands out one stepSource and one listeningSink.
type chainConnectors struct {
	src  *stepSource
	sink *listeningSink
}

func (c *chainConnectors) Source(*pipeline.Node, int) (connectors.Source, error) { return c.src, nil }
func (c *chainConnectors) Sink(*pipeline.Node, int) (connectors.Sink, error)     { return c.sink, nil }
