package runtime

import (
	"fmt"
	"time"
)

// An idle subtask writes its caches' dirty entries back to the backend in steps, so that a
// snapshot (which freezes, sorts and encodes the dirty entries) finds few of them: after a
// burst of records, the savepoint of a pit stop then costs a scan of the backend and a short
// pause. Write-back starts only after idleWriteBackAfter without records, so a busy job never
// writes back entries it is about to change again.
const (
	idleWriteBackAfter = 200 * time.Millisecond
	idleWriteBackStep  = 1024
)

// idleTimer returns a channel that fires after idleWriteBackAfter when a cache of the
// subtask holds dirty entries, nil (never) otherwise.
func (st *subtask) idleTimer() <-chan time.Time {
	if !st.dirty() {
		return nil
	}
	if st.idle == nil {
		st.idle = time.NewTimer(idleWriteBackAfter)
	} else {
		st.idle.Reset(idleWriteBackAfter)
	}
	return st.idle.C
}

// dirty reports whether a cache of the subtask's instances holds dirty entries.
func (st *subtask) dirty() bool {
	for _, in := range st.instances {
		for _, s := range in.states {
			if s.cache.Dirty() {
				return true
			}
		}
	}
	return false
}

// writeBackIdle writes dirty entries back in steps until none is left or a message arrives.
// While a snapshot's asynchronous phase runs it writes nothing: the phase reads the frozen
// entries anyway, and the writes would take the cores (and, on badger, compactions) from it.
func (st *subtask) writeBackIdle() error {
	if st.job.async.busy() {
		return nil
	}
	for len(st.inbox.ch) == 0 {
		more := false
		for _, in := range st.instances {
			for _, s := range in.states {
				if !s.cache.Dirty() {
					continue
				}
				m, err := s.cache.WriteBackSome(idleWriteBackStep)
				if err != nil {
					return fmt.Errorf("operator %q: state %q: %w", in.node.UID, s.desc.Name, err)
				}
				more = more || m
			}
		}
		if !more {
			return nil
		}
	}
	return nil
}
