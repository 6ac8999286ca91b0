package runtime

import (
	"fmt"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// This file holds the hooks that let a caller drive a job step by step, as `pipectl test`
// does: its own connectors in place of the pipeline's, a barrier that waits for in-flight
// work, and access to keyed state outside a running job.

// ConnectorFactory makes the connector of every source and sink of a job in place of the
// one of its kind (Config.Connectors): no file is opened and nothing connects.
type ConnectorFactory interface {
	Source(n *pipeline.Node, subtask int) (connectors.Source, error)
	Sink(n *pipeline.Node, subtask int) (connectors.Sink, error)
}

// Sync waits until every record whose Emit returned before Sync was called has been
// processed by every instance, and the processing-time timers due on the job's clock have
// fired: a barrier that snapshots nothing goes through the whole job. wakeSources is called once the
// barrier is queued into every source; it must make each source that waits for input call
// Idle (a source takes the barrier at its next Emit or Idle). It returns the job's error, or
// ErrJobEnded, when the job ends first.
func (j *Job) Sync(wakeSources func()) error {
	b, err := j.coord.begin(barrierSync, false, "")
	if err != nil {
		return j.endedErr()
	}
	defer j.coord.end(b)
	select {
	case <-j.done:
		return j.endedErr()
	default:
	}
	for _, s := range j.sources {
		s.inject(b)
	}
	wakeSources()
	select {
	case <-b.complete:
		return nil
	case <-j.done:
		return j.endedErr()
	}
}

// endedErr is the error of a job that has ended: its failure, or ErrJobEnded.
func (j *Job) endedErr() error {
	if j.err != nil {
		return j.err
	}
	return ErrJobEnded
}

// partFor is an instance's part of barrier b: nothing for a sync barrier.
func (in *instance) partFor(b *barrier) (*snapshotPart, error) {
	if b.kind == barrierSync {
		return &snapshotPart{}, nil
	}
	return in.snapshotPart(b)
}

// beforeBarrier runs in a subtask once b is aligned, before the subtask's instances see it:
// a sync barrier first fires the processing-time timers that are due, so that their output
// is ahead of the barrier.
func (st *subtask) beforeBarrier(b *barrier) error {
	if b.kind != barrierSync {
		return nil
	}
	return st.onWake()
}

// StateAccess reads and writes the entries of one keyed state in a backend while no job runs
// on it: `pipectl test` writes a test's initial state before the run and reads the final
// values after it. Keys and values are canonical (package schema). Windows and joins keep
// their state per window, not per key, and have no StateAccess.
type StateAccess struct {
	uid     string
	desc    *pipeline.StateDesc
	keyType *schema.Type
	maxPar  int
	cache   *statebackend.Cache
}

// NewStateAccess opens state d of the keyed node n of p in b; nowMs is the processing time
// (TTL states record it with each write and expire entries by it).
func NewStateAccess(b statebackend.Backend, p *pipeline.Pipeline, n *pipeline.Node, d *pipeline.StateDesc, nowMs func() int64) (*StateAccess, error) {
	if !n.Keyed() || n.Window != nil {
		return nil, fmt.Errorf("%q (%s) keeps no state per key", n.UID, n.Kind)
	}
	t, err := b.Table(n.UID, d.Name)
	if err != nil {
		return nil, fmt.Errorf("operator %q: state %q: %w", n.UID, d.Name, err)
	}
	c := statebackend.NewCache(t, typeCodec{d.Schema}, statebackend.CacheOptions{TTL: d.TTL, Now: nowMs})
	return &StateAccess{uid: n.UID, desc: d, keyType: n.KeyType(), maxPar: p.MaxParallelism, cache: c}, nil
}

// address returns the key group and key bytes of a key.
func (a *StateAccess) address(key any) (uint16, []byte, error) {
	kb, err := a.keyType.AppendBinary(nil, key)
	if err != nil {
		return 0, nil, fmt.Errorf("operator %q: key %v: %w", a.uid, key, err)
	}
	return keyGroupOf(kb, a.maxPar), kb, nil
}

// Put sets the value of a key (Flush writes it to the backend).
func (a *StateAccess) Put(key, value any) error {
	kg, kb, err := a.address(key)
	if err != nil {
		return err
	}
	return a.cache.Put(kg, kb, value)
}

// Get returns the value of a key; ok is false when the key holds none (or it expired).
func (a *StateAccess) Get(key any) (value any, ok bool, err error) {
	kg, kb, err := a.address(key)
	if err != nil {
		return nil, false, err
	}
	return a.cache.Get(kg, kb)
}

// Flush writes the values Put so far to the backend.
func (a *StateAccess) Flush() error {
	if err := a.cache.Flush(); err != nil {
		return fmt.Errorf("operator %q: state %q: %w", a.uid, a.desc.Name, err)
	}
	return nil
}
