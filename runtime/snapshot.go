package runtime

import (
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// barrierKind says what a barrier snapshots for.
type barrierKind uint8

const (
	barrierSavepoint barrierKind = iota
	barrierStop                  // stop-with-savepoint: sources stop after it
	barrierCheckpoint
	barrierSync // snapshots nothing: Sync waits for in-flight work
)

// barrier is one consistent snapshot in progress. Every instance acknowledges it once with
// its part: when it reaches the instance, or, for an instance that has already finished, from
// its final state.
type barrier struct {
	id      int64
	kind    barrierKind
	drain   bool
	started time.Time

	mu       sync.Mutex
	parts    map[instanceKey]*snapshotPart
	expected int
	complete chan struct{} // closed when every part is in
	err      error         // the first snapshot error

	// Stop barriers: the sources wait for the outcome of the savepoint before they stop
	// (success) or resume (failure).
	decided  chan struct{}
	decision error
	// sourcesStopped is when the last source stopped for a stop barrier (the start of the
	// downtime of a pit stop).
	sourcesStopped time.Time
}

// instanceKey identifies one instance.
type instanceKey struct {
	uid     string
	subtask int
}

// snapshotPart is one instance's share of a snapshot.
type snapshotPart struct {
	offsets connectors.Offsets // sources: position; sinks: committed state
	states  []stateChunk       // keyed instances: one chunk per state, in node.States order
}

// stateChunk holds one state's entries of one instance's key groups, in (kg, key) order,
// framed as uvarint kg, uvarint key length, key, uvarint value length, value.
type stateChunk struct {
	buf   []byte
	count int64
}

// each calls fn for every entry of the chunk.
func (c *stateChunk) each(fn func(kg uint16, key, value []byte) error) error {
	b := c.buf
	for len(b) > 0 {
		kg, n := binary.Uvarint(b)
		b = b[n:]
		kl, n := binary.Uvarint(b)
		b = b[n:]
		key := b[:kl]
		b = b[kl:]
		vl, n := binary.Uvarint(b)
		b = b[n:]
		val := b[:vl]
		b = b[vl:]
		if err := fn(uint16(kg), key, val); err != nil {
			return err
		}
	}
	return nil
}

// coordinator triggers barriers and collects the instances' parts.
type coordinator struct {
	job     *Job
	mu      sync.Mutex
	nextID  int64
	pending map[int64]*barrier
	ended   map[instanceKey]*instance // instances that have finished
	total   int                       // number of instances in the job
}

func newCoordinator(j *Job) *coordinator {
	return &coordinator{job: j, pending: map[int64]*barrier{}, ended: map[instanceKey]*instance{}}
}

// begin creates a barrier and acknowledges it for every finished instance.
func (c *coordinator) begin(kind barrierKind, drain bool) *barrier {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	b := &barrier{
		id: c.nextID, kind: kind, drain: drain, started: c.job.now(),
		parts: map[instanceKey]*snapshotPart{}, expected: c.total,
		complete: make(chan struct{}), decided: make(chan struct{}),
	}
	c.pending[b.id] = b
	for _, in := range c.ended {
		c.ackLocked(b, in)
	}
	return b
}

// end forgets a barrier.
func (c *coordinator) end(b *barrier) {
	c.mu.Lock()
	delete(c.pending, b.id)
	c.mu.Unlock()
}

// snapshot is called by an instance when a barrier reaches it.
func (c *coordinator) snapshot(in *instance, b *barrier) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[b.id] == nil {
		return nil // abandoned
	}
	c.ackLocked(b, in)
	return nil
}

// finished records a finished instance and acknowledges every pending barrier for it.
func (c *coordinator) finished(in *instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended[instanceKey{in.node.UID, in.subtask}] = in
	for _, b := range c.pending {
		c.ackLocked(b, in)
	}
}

// ackLocked adds in's part to b once.
func (c *coordinator) ackLocked(b *barrier, in *instance) {
	k := instanceKey{in.node.UID, in.subtask}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.parts[k]; ok {
		return
	}
	part, err := in.partFor(b)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("snapshot of %q subtask %d: %w", in.node.UID, in.subtask, err)
	}
	b.parts[k] = part
	if len(b.parts) == b.expected {
		close(b.complete)
	}
}

// snapshotPart takes the instance's share of a snapshot.
func (in *instance) snapshotPart() (*snapshotPart, error) {
	p := &snapshotPart{}
	switch {
	case in.source != nil:
		p.offsets = in.source.Offsets()
	case in.sink != nil:
		o, err := in.sink.Committed()
		if err != nil {
			return p, err
		}
		p.offsets = o
	}
	if len(in.states) == 0 {
		return p, nil
	}
	if err := in.flushState(); err != nil {
		return p, err
	}
	from, to := keyGroupRange(in.subtask, in.node.Parallelism, in.job.maxPar)
	p.states = make([]stateChunk, len(in.states))
	now := in.job.nowMs()
	for i, s := range in.states {
		ch := &p.states[i]
		ttl := s.desc.TTL
		err := s.table.Scan(from, to, func(kg uint16, key, value []byte) error {
			if ttl > 0 {
				// Entries not written for their TTL are never returned again: they are
				// dropped from snapshots too.
				written, _, err := statebackend.DecodeStored(ttl, value)
				if err != nil {
					return err
				}
				if statebackend.Expired(ttl, written, now) {
					return nil
				}
			}
			ch.buf = binary.AppendUvarint(ch.buf, uint64(kg))
			ch.buf = binary.AppendUvarint(ch.buf, uint64(len(key)))
			ch.buf = append(ch.buf, key...)
			ch.buf = binary.AppendUvarint(ch.buf, uint64(len(value)))
			ch.buf = append(ch.buf, value...)
			ch.count++
			return nil
		})
		if err != nil {
			return p, fmt.Errorf("state %q: %w", s.desc.Name, err)
		}
	}
	return p, nil
}

// partsOf returns the parts of one uid, by subtask.
func (b *barrier) partsOf(uid string, parallelism int) []*snapshotPart {
	out := make([]*snapshotPart, 0, parallelism)
	for i := 0; i < parallelism; i++ {
		if p := b.parts[instanceKey{uid, i}]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// sourceOffsets merges the offsets of the subtasks of one source or sink. File sources
// report disjoint files; a parallel generator's subtasks each have their own next index,
// kept as "next/<subtask>" (restoreOffsetsFor reads them back).
func sourceOffsets(n *pipeline.Node, parts []*snapshotPart) map[string]int64 {
	var out map[string]int64
	for i, p := range parts {
		for k, v := range p.offsets {
			if out == nil {
				out = map[string]int64{}
			}
			if n.Kind == "generator" && len(parts) > 1 {
				k = fmt.Sprintf("%s/%d", k, i)
			}
			out[k] = v
		}
	}
	return out
}

// restoreOffsetsFor returns the offsets one source subtask restores from a snapshot's merged
// offsets. A parallel generator gets its own next index; when the parallelism changed, it
// resumes at the lowest index any subtask had reached (records after it may repeat: a
// generator rescaled between versions is at-least-once).
func restoreOffsetsFor(n *pipeline.Node, subtask int, off map[string]int64) map[string]int64 {
	if n.Kind != "generator" || off == nil {
		return off
	}
	if v, ok := off[fmt.Sprintf("next/%d", subtask)]; ok && n.Parallelism > 1 {
		return map[string]int64{"next": v}
	}
	if _, ok := off["next"]; ok {
		return off
	}
	lowest := int64(-1)
	for k, v := range off {
		if strings.HasPrefix(k, "next/") && (lowest < 0 || v < lowest) {
			lowest = v
		}
	}
	if lowest < 0 {
		return off
	}
	return map[string]int64{"next": lowest}
}
