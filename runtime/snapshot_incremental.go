package runtime

import (
	"fmt"
	"os"

	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// The incremental stop of a pit stop (docs/operations.md, The pit stop). A stop's savepoint
// holds all of the job's state, and writing it is most of a pit stop's downtime: at ten
// million keys, seconds. StopIncrementally first takes a savepoint while the job runs (the
// base: a pause, no downtime), from whose freeze on every cache records the keys written.
// The stop's savepoint then writes those keys and copies every other entry from the base's
// data files as they are: the downtime grows with the keys written since the base, not with
// the state. The stop's savepoint is as complete and self-contained as any; the base is
// removed once mapped.

// previousSnapshot is the base of an incremental stop: its data files, mapped, by state.
type previousSnapshot struct {
	epoch  int64 // the barrier id of the base: the caches record the keys written since
	states map[stateID]*mappedBase
}

// stateID names one state of one operator.
type stateID struct{ uid, name string }

// mappedBase is one state's data file in the base.
type mappedBase struct {
	state   *savepoints.MappedState
	mapping *statebackend.Mapping // holds the mapping while a snapshot reads it
}

// StopIncrementally stops the job with a savepoint like StopWithSavepoint (without drain),
// taking a base savepoint first so that the stop writes only what changed since. Backends
// without asynchronous snapshots (memory) stop plainly.
func (j *Job) StopIncrementally(dir string) (*SavepointResult, error) {
	if v, ok := j.backend.(statebackend.Viewing); !ok || !v.TablesGiveViews() {
		return j.StopWithSavepoint(dir, false)
	}
	prev, err := j.baseSavepoint(dir)
	if err != nil {
		return nil, fmt.Errorf("savepoint before the stop: %w", err)
	}
	defer prev.release()
	return j.stopWithSavepoint(dir, false, prev)
}

// baseSavepoint takes the base of an incremental stop into dir, maps its data files and
// removes it: the mappings outlive the files.
func (j *Job) baseSavepoint(dir string) (*previousSnapshot, error) {
	var epoch int64
	res, err := j.savepoint(dir, "pre-stop", func(b *barrier) { b.track, epoch = true, b.id })
	if err != nil {
		return nil, err
	}
	j.Logf("savepoint before the stop: %d entries, %d bytes, pause %d ms, %d ms in all", res.Entries, res.Bytes, res.Pause, res.Duration)
	defer os.RemoveAll(res.Path)
	sp, err := savepoints.Open(res.Path)
	if err != nil {
		return nil, err
	}
	prev := &previousSnapshot{epoch: epoch, states: map[stateID]*mappedBase{}}
	for _, o := range sp.Meta.Operators {
		for _, st := range o.States {
			ms, err := sp.MapState(o.UID, st.Name)
			if err != nil {
				prev.release()
				return nil, err
			}
			prev.states[stateID{o.UID, st.Name}] = &mappedBase{state: ms, mapping: statebackend.NewMapping(ms.Data, func() { ms.Unmap() })}
		}
	}
	return prev, nil
}

// release drops the base's mappings (snapshots still reading one hold it until they end).
func (p *previousSnapshot) release() {
	for _, s := range p.states {
		s.mapping.Unref()
	}
}

// writeDelta fills chunk from an incremental snapshot of one state of in, over the base's
// entries of key groups [from, to). ok is false when the base has no such state.
func (p *previousSnapshot) writeDelta(in *instance, name string, snap *statebackend.CacheSnapshot, chunk *savepoints.Chunk, from, to uint16) (ok bool, err error) {
	base := p.states[stateID{in.node.UID, name}]
	if base == nil {
		return false, nil
	}
	base.mapping.Ref()
	defer base.mapping.Unref()
	return true, snap.WriteDelta(base.state.Data, base.state.Range(from, to), from, to, chunk.Add, chunk.AddRun)
}
