package pipetest

import (
	"fmt"
	"sync"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
)

// feedCmd is one command to a feed: emit a record (emit) or only idle, which sends a due
// watermark, flushes batches and takes a queued barrier. done gets the outcome.
type feedCmd struct {
	emit   bool
	record any
	done   chan error
}

// feed is the source of one source uid in a test: it emits the records the runner hands it,
// one command at a time, and ends when the runner closes it.
type feed struct {
	uid   string
	cmds  chan feedCmd
	kafka *kafkaMeta // nil unless the source is a Kafka source
	mu    sync.Mutex
	next  int64
}

// kafkaMeta is what a feed replacing a Kafka source needs to emit as the Kafka source does:
// each record from its partition (watermarks are tracked per partition) with its Kafka
// timestamp (the event time with `timestamp: kafka`).
type kafkaMeta struct {
	topic, partition, timestamp string // the schema fields that metadata: maps ("" none)
	now                         func() int64
}

func newFeed(n *pipeline.Node, now func() int64) *feed {
	f := &feed{uid: n.UID, cmds: make(chan feedCmd)}
	if n.Kind == "kafka" {
		md := n.Options.Object("metadata")
		f.kafka = &kafkaMeta{topic: md.String("topic", ""), partition: md.String("partition", ""),
			timestamp: md.String("timestamp", ""), now: now}
	}
	return f
}

// emit emits one record: a Kafka source's from its partition, with its Kafka timestamp (the
// metadata timestamp field when the source maps one, else the processing time it is fed at,
// as a producer stamps a record it sends).
func (f *feed) emit(ctx connectors.SourceContext, rec any) error {
	sc, ok := ctx.(connectors.SplitContext)
	if f.kafka == nil || !ok {
		return ctx.Emit(rec)
	}
	m, _ := rec.(map[string]any)
	ts, ok := m[f.kafka.timestamp].(int64)
	if !ok {
		ts = f.kafka.now()
	}
	split := fmt.Sprintf("%v/%v", m[f.kafka.topic], m[f.kafka.partition])
	return sc.EmitFrom(rec, split, ts)
}

// Restore implements connectors.Source: a test starts every source at its first record.
func (f *feed) Restore(connectors.Offsets) error { return nil }

// Run implements connectors.Source.
func (f *feed) Run(ctx connectors.SourceContext) error {
	for cmd := range f.cmds {
		var err error
		if cmd.emit {
			if err = f.emit(ctx, cmd.record); err == nil {
				f.mu.Lock()
				f.next++
				f.mu.Unlock()
			}
		}
		if err == nil {
			err = ctx.Idle() // the watermark follows the record at once
		}
		cmd.done <- err
		if err != nil {
			return err
		}
	}
	return nil
}

// Offsets implements connectors.Source.
func (f *feed) Offsets() connectors.Offsets {
	f.mu.Lock()
	defer f.mu.Unlock()
	return connectors.Offsets{"next": f.next}
}

// Bounded implements connectors.Source.
func (f *feed) Bounded() bool { return true }

// do hands the feed one command and waits for it; ended is closed when the job has ended.
func (f *feed) do(cmd feedCmd, ended <-chan struct{}) error {
	cmd.done = make(chan error, 1)
	select {
	case f.cmds <- cmd:
	case <-ended:
		return errJobEnded
	}
	select {
	case err := <-cmd.done:
		return err
	case <-ended:
		return errJobEnded
	}
}

// capture is the sink of one sink uid in a test: it keeps each record as its JSON line.
type capture struct {
	node  *pipeline.Node
	mu    sync.Mutex
	lines []string
}

// Write implements connectors.Sink.
func (c *capture) Write(rec any) error {
	b, err := c.node.InTypes[0].AppendJSON(nil, rec)
	if err != nil {
		return fmt.Errorf("sink %q: %w", c.node.UID, err)
	}
	c.mu.Lock()
	c.lines = append(c.lines, string(b))
	c.mu.Unlock()
	return nil
}

// Records returns the lines written so far.
func (c *capture) Records() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.lines...)
}

// Flush implements connectors.Sink.
func (c *capture) Flush() error { return nil }

// Committed implements connectors.Sink.
func (c *capture) Committed() (connectors.Offsets, error) { return nil, nil }

// Restore implements connectors.Sink.
func (c *capture) Restore(connectors.Offsets) error { return nil }

// Close implements connectors.Sink.
func (c *capture) Close() error { return nil }

// harness makes the connectors of one test run (runtime.ConnectorFactory): a feed per source
// and a capture per sink, whatever their kinds.
type harness struct {
	feeds    map[string]*feed
	order    []*feed // in pipeline order, for deterministic pokes
	captures map[string]*capture
}

// newHarness makes the connectors of a run of p; now is the processing time in ms.
func newHarness(p *pipeline.Pipeline, now func() int64) *harness {
	h := &harness{feeds: map[string]*feed{}, captures: map[string]*capture{}}
	for _, n := range p.Sources {
		f := newFeed(n, now)
		h.feeds[n.UID] = f
		h.order = append(h.order, f)
	}
	for _, n := range p.Sinks {
		h.captures[n.UID] = &capture{node: n}
	}
	return h
}

// Source implements runtime.ConnectorFactory.
func (h *harness) Source(n *pipeline.Node, subtask int) (connectors.Source, error) {
	if f := h.feeds[n.UID]; f != nil && subtask == 0 {
		return f, nil
	}
	return nil, fmt.Errorf("internal: no test feed for source %q subtask %d", n.UID, subtask)
}

// Sink implements runtime.ConnectorFactory.
func (h *harness) Sink(n *pipeline.Node, subtask int) (connectors.Sink, error) {
	if c := h.captures[n.UID]; c != nil && subtask == 0 {
		return c, nil
	}
	return nil, fmt.Errorf("internal: no test capture for sink %q subtask %d", n.UID, subtask)
}
