package runtime

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
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
	dir     string // where the snapshot is written
	started time.Time

	mu       sync.Mutex
	parts    map[instanceKey]*snapshotPart
	expected int
	running  int           // asynchronous phases not yet done
	aligned  time.Time     // when the last part came in (the end of the pause)
	complete chan struct{} // closed when every part is in and every asynchronous phase done
	err      error         // the first snapshot error

	// Stop barriers: the sources wait for the outcome of the savepoint before they stop
	// (success) or resume (failure).
	decided  chan struct{}
	decision error
	// sourcesStopped is when the last source stopped for a stop barrier (the start of the
	// downtime of a pit stop).
	sourcesStopped time.Time

	// track makes the caches record the keys written after their freeze (the base of an
	// incremental stop); prev, set on the stop, is that base: the stop's savepoint writes
	// those keys and copies the rest from it.
	track bool
	prev  *previousSnapshot
}

// instanceKey identifies one instance.
type instanceKey struct {
	uid     string
	subtask int
}

// snapshotPart is one instance's share of a snapshot.
type snapshotPart struct {
	offsets connectors.Offsets // sources: position; sinks: committed state
	// states holds, for keyed instances, one chunk per state in node.States order: this
	// instance's key groups in (kg, key) order.
	states []savepoints.Chunk
	// async, when set, fills states after the part was taken (the asynchronous phase);
	// release then frees what it froze, for a part that is dropped instead.
	async   func() error
	release func()
}

// discard drops a part that no snapshot will use.
func (p *snapshotPart) discard() {
	if p.release != nil {
		p.release()
	}
	for i := range p.states {
		p.states[i].Release()
	}
}

// coordinator triggers barriers and collects the instances' parts. One barrier is in flight
// at a time: begin waits until the previous one completed or failed, so snapshots never
// overlap (an exactly-once Kafka sink pre-commits one transaction per snapshot).
type coordinator struct {
	job     *Job
	slot    chan struct{} // holds a token while a barrier is in flight
	waiting atomic.Int32  // callers of begin waiting for the slot
	mu      sync.Mutex
	nextID  int64
	pending map[int64]*barrier
	ended   map[instanceKey]*instance // instances that have finished
	total   int                       // number of instances in the job
}

func newCoordinator(j *Job) *coordinator {
	return &coordinator{job: j, slot: make(chan struct{}, 1), pending: map[int64]*barrier{}, ended: map[instanceKey]*instance{}}
}

// begin waits until no barrier is in flight, then creates one and acknowledges it for every
// finished instance. dir is where the snapshot goes (its chunks spill there). It fails with
// ErrJobEnded when the job ends first. Every barrier begun must be ended.
func (c *coordinator) begin(kind barrierKind, drain bool, dir string) (*barrier, error) {
	c.waiting.Add(1)
	select {
	case c.slot <- struct{}{}:
		c.waiting.Add(-1)
	case <-c.job.done:
		c.waiting.Add(-1)
		return nil, ErrJobEnded
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	b := &barrier{
		id: c.nextID, kind: kind, drain: drain, dir: dir, started: c.job.now(),
		parts: map[instanceKey]*snapshotPart{}, expected: c.total,
		complete: make(chan struct{}), decided: make(chan struct{}),
	}
	c.pending[b.id] = b
	for _, in := range c.ended {
		c.ackLocked(b, in)
	}
	return b, nil
}

// end forgets a barrier, releases its parts' chunks once complete and lets the next one
// begin.
func (c *coordinator) end(b *barrier) {
	c.mu.Lock()
	delete(c.pending, b.id)
	c.mu.Unlock()
	select {
	case <-b.complete:
		for _, p := range b.parts {
			for i := range p.states {
				p.states[i].Release()
			}
		}
	default: // an asynchronous phase may still write a chunk: its spill file closes with it
	}
	<-c.slot
}

// snapshot is called by an instance when a barrier reaches it. The instance takes its part
// outside the coordinator's lock, so that the instances of a job freeze their states at the
// same time rather than one after another.
func (c *coordinator) snapshot(in *instance, b *barrier) error {
	c.mu.Lock()
	live := c.pending[b.id] != nil
	c.mu.Unlock()
	if !live {
		return nil // abandoned
	}
	part, err := in.partFor(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[b.id] == nil {
		part.discard()
		return nil
	}
	c.addPartLocked(b, in, part, err)
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
	b.mu.Lock()
	_, ok := b.parts[instanceKey{in.node.UID, in.subtask}]
	b.mu.Unlock()
	if ok {
		return
	}
	part, err := in.partFor(b)
	c.addPartLocked(b, in, part, err)
}

// addPartLocked adds in's part (taken with err) to b once, and starts its asynchronous phase.
func (c *coordinator) addPartLocked(b *barrier, in *instance, part *snapshotPart, err error) {
	k := instanceKey{in.node.UID, in.subtask}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.parts[k]; ok {
		part.discard()
		return
	}
	if err != nil {
		b.failLocked(in, err)
	}
	b.parts[k] = part
	if part.async != nil && err == nil {
		b.running++
		if !c.job.async.start(func() { b.asyncDone(in, part.async()) }) {
			b.running--
			b.failLocked(in, ErrJobEnded)
		}
	}
	if len(b.parts) == b.expected {
		b.aligned = c.job.now()
	}
	b.completeLocked()
}

// asyncDone records the end of an instance's asynchronous phase.
func (b *barrier) asyncDone(in *instance, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.failLocked(in, err)
	}
	b.running--
	b.completeLocked()
}

// failLocked keeps the first error of the snapshot; b.mu is held.
func (b *barrier) failLocked(in *instance, err error) {
	if b.err == nil {
		b.err = fmt.Errorf("snapshot of %q subtask %d: %w", in.node.UID, in.subtask, err)
	}
}

// completeLocked closes complete once every part is in and no asynchronous phase runs; b.mu
// is held.
func (b *barrier) completeLocked() {
	if len(b.parts) == b.expected && b.running == 0 {
		close(b.complete)
	}
}

// waitEnded waits for a barrier begun after every instance finished (a final checkpoint or
// savepoint) and returns its error.
func (b *barrier) waitEnded() error {
	b.mu.Lock()
	all := len(b.parts) == b.expected
	b.mu.Unlock()
	if !all {
		return errors.New("internal: final snapshot before every instance finished")
	}
	<-b.complete
	return b.err
}

// pause is how long the barrier held records back: from its start until the last instance
// took its part (the asynchronous phases run while records flow again).
func (b *barrier) pause() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.aligned.Sub(b.started)
}

// snapshotPart takes the instance's share of the snapshot of b.
func (in *instance) snapshotPart(b *barrier) (*snapshotPart, error) {
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
	from, to := keyGroupRange(in.subtask, in.node.Parallelism, in.job.maxPar)
	p.states = make([]savepoints.Chunk, len(in.states))
	for i := range p.states {
		p.states[i].SpillTo(b.dir) // a large state's snapshot goes to disk, not the heap
	}
	if snaps := in.freezeStates(b); snaps != nil {
		p.async = func() error { return writeFrozen(in, snaps, p.states, from, to, b.prev) }
		p.release = func() {
			for _, s := range snaps {
				s.Close()
			}
		}
		return p, nil
	}
	if err := in.flushState(); err != nil {
		return p, err
	}
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
			return ch.Add(kg, key, value)
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
// kept as "next/<subtask>" (restoreOffsetsFor reads them back), and "next" is the lowest of
// them: every index below it has been generated, as with one subtask.
func sourceOffsets(n *pipeline.Node, parts []*snapshotPart) map[string]int64 {
	var out map[string]int64
	for i, p := range parts {
		for k, v := range p.offsets {
			if out == nil {
				out = map[string]int64{}
			}
			if n.Kind == "generator" && len(parts) > 1 {
				if low, ok := out[k]; !ok || v < low {
					out[k] = v
				}
				k = fmt.Sprintf("%s/%d", k, i)
			}
			out[k] = v
		}
	}
	return out
}

// restoreOffsetsFor returns the offsets one source subtask restores from a snapshot's merged
// offsets. A parallel generator gets its own next index; when the parallelism changed (the
// subtasks share the indices out differently), every subtask resumes at the lowest index any
// subtask had reached (records after it may repeat: a generator rescaled between versions is
// at-least-once).
func restoreOffsetsFor(n *pipeline.Node, subtask int, off map[string]int64) map[string]int64 {
	if n.Kind != "generator" || off == nil {
		return off
	}
	saved := 0 // the parallelism the snapshot was taken at (one next/i per subtask)
	for k := range off {
		if strings.HasPrefix(k, "next/") {
			saved++
		}
	}
	if v, ok := off[fmt.Sprintf("next/%d", subtask)]; ok && n.Parallelism > 1 && saved == n.Parallelism {
		return map[string]int64{"next": v}
	}
	if v, ok := off["next"]; ok {
		return map[string]int64{"next": v}
	}
	lowest := int64(-1) // a savepoint written before "next" was kept beside next/<i>
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
