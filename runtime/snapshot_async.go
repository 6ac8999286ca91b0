package runtime

import (
	"fmt"
	"sync"

	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// Asynchronous snapshots (Flink's synchronous and asynchronous phases): when a barrier
// reaches a keyed instance, the instance only freezes its state (statebackend.Cache.Snapshot:
// a read view of the table, a copy of the entries not written back yet, the base's state
// bytes) and goes on processing records. A goroutine then produces the instance's chunks from
// the frozen view; the barrier completes when every part is in and every asynchronous phase
// is done. Backends without views (memory) are snapshotted synchronously.

// freezeStates takes the synchronous phase of every state of in for the snapshot of b; nil
// when the backend gives no views.
func (in *instance) freezeStates(b *barrier) []*statebackend.CacheSnapshot {
	snaps := make([]*statebackend.CacheSnapshot, 0, len(in.states))
	for _, s := range in.states {
		var snap *statebackend.CacheSnapshot
		var ok bool
		if b.prev != nil {
			snap, ok = s.cache.SnapshotSince(b.prev.epoch)
		} else {
			snap, ok = s.cache.Snapshot()
		}
		if ok && b.track {
			s.cache.TrackChanges(b.id)
		}
		if !ok {
			for _, t := range snaps {
				t.Close()
			}
			return nil
		}
		snaps = append(snaps, snap)
	}
	return snaps
}

// asyncPhaseHook, when set (tests), runs first in every asynchronous phase; its error fails
// the phase.
var asyncPhaseHook func() error

// writeFrozen is the asynchronous phase: it fills one chunk per state from its frozen view,
// as a delta of prev where the snapshot is incremental.
func writeFrozen(in *instance, snaps []*statebackend.CacheSnapshot, chunks []savepoints.Chunk, from, to uint16, prev *previousSnapshot) error {
	defer func() {
		for _, s := range snaps {
			s.Close() // after an error, the views not yet written
		}
	}()
	if asyncPhaseHook != nil {
		if err := asyncPhaseHook(); err != nil {
			return err
		}
	}
	for i, s := range snaps {
		name := in.states[i].desc.Name
		done := false
		var err error
		if prev != nil && s.Incremental() {
			done, err = prev.writeDelta(in, name, s, &chunks[i], from, to)
		}
		if !done && err == nil {
			err = s.Write(from, to, chunks[i].Add)
		}
		if err != nil {
			return fmt.Errorf("state %q: %w", name, err)
		}
	}
	return nil
}

// asyncRunner runs the asynchronous phases of snapshots. A job's attempt closes it before
// its backend may be closed or cleared: close waits for the phases running, and later ones are
// refused (their snapshot fails). start never blocks.
type asyncRunner struct {
	mu      sync.Mutex
	idle    sync.Cond // signaled when running drops to 0
	running int
	closed  bool
}

// start runs f on its own goroutine, or reports false once the runner is closed.
func (r *asyncRunner) start(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.running++
	go func() {
		f()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.running--; r.running == 0 {
			r.idle.Broadcast()
		}
	}()
	return true
}

// busy reports whether an asynchronous phase is running.
func (r *asyncRunner) busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running > 0
}

// close waits for the running phases and refuses new ones.
func (r *asyncRunner) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.idle.L == nil {
		r.idle.L = &r.mu
	}
	for r.running > 0 {
		r.idle.Wait()
	}
}

// reopen accepts phases again (a new attempt).
func (r *asyncRunner) reopen() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = false
}
