package runtime

import (
	"errors"
	"fmt"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// Lazy restore: rather than loading a state into the backend before the job starts, the
// restore maps the state's data file and indexes its entries; each keyed instance's cache
// gets its key groups' range of it as a base (statebackend.Base). A miss in the cache that
// the base still serves takes the value from there, and the subtask copies the rest into the
// backend between batches of records and while it is idle (loadStep), so that only its own
// goroutine ever writes the table. The job starts once every value has been decoded (the
// same check as an eager restore), not once the state is loaded.

// lazyState is a state restored lazily, until every instance has its base.
type lazyState struct {
	mapped  *savepoints.MappedState
	mapping *statebackend.Mapping
}

// lazyKey names a lazily restored state of the new pipeline.
type lazyKey struct{ uid, state string }

// canRestoreLazily reports whether state d of n can be restored lazily from sm: the stored
// bytes are taken as they are (same schema, same TTL, no migration), the backend's tables give
// the views that snapshots of a partly loaded state need, and the node reads the state only
// through its cache (windows and timers scan their tables when they start).
func (j *Job) canRestoreLazily(n *pipeline.Node, d *pipeline.StateDesc, sm *savepoints.StateMeta, conv valueConverter, sources int) bool {
	if conv != nil || sources != 1 || sm.TTLMs != d.TTL.Milliseconds() || j.cfg.EagerRestore {
		return false
	}
	if n.Window != nil || d.Name == pipeline.StateTimers {
		return false
	}
	switch n.Kind {
	case "window", "window_all", "window_join", "co_group":
		return false
	}
	v, ok := j.backend.(statebackend.Viewing)
	return ok && v.TablesGiveViews()
}

// mapState restores one state lazily: it maps the data file and takes the offsets of its
// entries, and queues the check of every entry and value that runs while the job serves the
// state (verifyRestored). A data file too large to map gives savepoints.ErrNotMappable.
func (j *Job) mapState(sp *savepoints.Savepoint, n *pipeline.Node, d *pipeline.StateDesc, om *savepoints.OperatorMeta, sm *savepoints.StateMeta) (int64, error) {
	ms, err := sp.MapState(om.UID, sm.Name)
	if errors.Is(err, savepoints.ErrNotMappable) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("restore %q state %q: %w", n.UID, d.Name, err)
	}
	if j.lazy == nil {
		j.lazy = map[lazyKey]*lazyState{}
	}
	l := &lazyState{mapped: ms}
	l.mapping = statebackend.NewMapping(ms.Data, func() { ms.Unmap() })
	j.lazy[lazyKey{n.UID, d.Name}] = l
	l.mapping.Ref()
	j.checks = append(j.checks, &restoreCheck{n: n, d: d, sm: sm, path: sp.Path, mapped: ms, mapping: l.mapping})
	return int64(len(ms.Offsets)), nil
}

// restoreCheck is the check of a lazily restored state that runs while the job serves it:
// the framing and order of every entry (a data file of format 2 is mapped without a pass
// over it) and that every value decodes with the state's schema. The checksums were verified
// before the job started, so only a savepoint forged with matching checksums fails it: the
// job then fails, naming the uid, the state and the key.
type restoreCheck struct {
	n       *pipeline.Node
	d       *pipeline.StateDesc
	sm      *savepoints.StateMeta
	path    string
	mapped  *savepoints.MappedState
	mapping *statebackend.Mapping // a reference held until the check ends
}

// restoreCheckStep is the number of entries checked between two looks at whether the job
// still runs.
const restoreCheckStep = 4096

// verifyRestored runs the checks of the states restored lazily for this attempt, one after
// the other; it gives up quietly when the job ends or stops first, and when a stop with a
// savepoint begins, whose asynchronous phase needs the cores (the savepoint holds the same
// stored bytes, which the job restoring it checks again; a stop that fails does not resume
// the check).
func (j *Job) verifyRestored(checks []*restoreCheck, done <-chan struct{}) error {
	defer releaseChecks(checks)
	for _, c := range checks {
		i := 0
		err := c.mapped.Verify(c.path, c.sm.File, func(kg uint16, key, stored []byte) error {
			if i++; i%restoreCheckStep == 0 {
				select {
				case <-done:
					return errCheckAbandoned
				default:
				}
				if j.stopped.Load() || j.stopping.Load() {
					return errCheckAbandoned
				}
			}
			_, raw, err := decodeStored(c.sm, stored)
			if err != nil {
				return fmt.Errorf("key %s (key group %d): %w", describeKey(c.n, key), kg, err)
			}
			if rest, err := c.d.Schema.CheckBinary(raw); err != nil || len(rest) != 0 {
				return fmt.Errorf("key %s (key group %d): the stored value is not a %s", describeKey(c.n, key), kg, c.d.Schema)
			}
			return nil
		})
		if err == errCheckAbandoned {
			return nil
		}
		if err != nil {
			return fmt.Errorf("restore %q state %q: %w", c.n.UID, c.d.Name, err)
		}
	}
	return nil
}

// errCheckAbandoned ends a restore check whose job ended.
var errCheckAbandoned = errors.New("restore check abandoned")

// releaseChecks drops the checks' references on their mappings.
func releaseChecks(checks []*restoreCheck) {
	for _, c := range checks {
		c.mapping.Unref()
	}
}

// takeChecks returns the restore checks queued for this attempt and forgets them.
func (j *Job) takeChecks() []*restoreCheck {
	c := j.checks
	j.checks = nil
	return c
}

// attachBase gives the cache of state s of subtask i of n its range of a lazily restored
// state.
func (j *Job) attachBase(n *pipeline.Node, i int, s *keyedState) {
	l := j.lazy[lazyKey{n.UID, s.desc.Name}]
	if l == nil {
		return
	}
	from, to := keyGroupRange(i, n.Parallelism, j.maxPar)
	s.cache.SetBase(statebackend.NewBase(l.mapping, l.mapped.Range(from, to)))
}

// startLoading runs after planning (successful or not): it drops the restore's own
// references on the mappings (a mapping is released when its last base is loaded) and counts
// the subtasks that have state to load.
func (j *Job) startLoading() {
	for _, l := range j.lazy {
		l.mapping.Unref()
	}
	j.lazy = nil
	n := int32(0)
	for _, st := range j.subtasks {
		st.baseLoaded = true
		for _, in := range st.instances {
			for _, s := range in.states {
				st.baseLoaded = st.baseLoaded && !s.cache.BaseLoading()
			}
		}
		if !st.baseLoaded {
			n++
		}
	}
	j.loading.Store(n)
	j.loadStart = j.now()
}

// Loading steps: entries copied into the backend per step between two batches of records,
// and per step while the subtask is idle (variables for tests).
var (
	loadStepBusy = 1024
	loadStepIdle = 4096
)

// loadStep copies up to max entries of lazily restored state of each of the subtask's
// instances into the backend.
func (st *subtask) loadStep(max int) error {
	more := false
	for _, in := range st.instances {
		for _, s := range in.states {
			if !s.cache.BaseLoading() {
				continue
			}
			m, err := s.cache.LoadBase(max)
			if err != nil {
				return fmt.Errorf("operator %q: state %q: %w", in.node.UID, s.desc.Name, err)
			}
			more = more || m
		}
	}
	if !more {
		st.baseLoaded = true
		if st.job.loading.Add(-1) == 0 {
			st.job.log.Info(fmt.Sprintf("restored state loaded into the backend in %d ms", st.job.now().Sub(st.job.loadStart).Milliseconds()))
		}
	}
	return nil
}

// releaseBases drops what is left of every lazily restored state at the end of an attempt.
func (j *Job) releaseBases() {
	for _, st := range j.subtasks {
		for _, in := range st.instances {
			for _, s := range in.states {
				s.cache.SetBase(nil)
			}
		}
	}
}
