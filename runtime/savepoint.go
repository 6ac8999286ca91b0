package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"

	"github.com/pipectl/pipectl/savepoints"
)

// SavepointResult describes a written savepoint.
type SavepointResult struct {
	Path string
	// Pause is how long the barrier took to pass every instance (the records held back by
	// alignment); Duration is the whole savepoint, writing included.
	Pause, Duration int64 // milliseconds
	Bytes           int64
	Entries         int64
	// SourcesStopped is, for a stop, when the sources stopped reading (Unix ms).
	SourcesStopped int64
}

// Savepoint takes a savepoint of the running job into dir; the job keeps running.
func (j *Job) Savepoint(dir, trigger string) (*SavepointResult, error) {
	res, err := j.savepoint(dir, trigger, nil)
	if err == nil {
		j.lastSavepointMs.Store(res.Duration)
	}
	return res, err
}

// savepoint takes a savepoint of the running job into dir, with prepare (when set) called on
// its barrier before the barrier goes out.
func (j *Job) savepoint(dir, trigger string, prepare func(*barrier)) (*SavepointResult, error) {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	if j.rs.restarting {
		return nil, ErrRestarting
	}
	b, err := j.coord.begin(barrierSavepoint, false, dir)
	if err != nil {
		return nil, err
	}
	if prepare != nil {
		prepare(b)
	}
	return j.takeSnapshot(b, dir, trigger)
}

// StopWithSavepoint stops the sources at a barrier, lets in-flight records drain, writes a
// savepoint and ends the job. With drain, the watermark first advances to the end of time.
// If the savepoint fails, the job keeps running and the error is returned.
func (j *Job) StopWithSavepoint(dir string, drain bool) (*SavepointResult, error) {
	return j.stopWithSavepoint(dir, drain, nil)
}

// stopWithSavepoint is StopWithSavepoint, as a delta of prev when it is set.
func (j *Job) stopWithSavepoint(dir string, drain bool, prev *previousSnapshot) (*SavepointResult, error) {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	if j.rs.restarting {
		return nil, ErrRestarting
	}
	j.stopping.Store(true)
	defer j.stopping.Store(false)
	b, err := j.coord.begin(barrierStop, drain, dir)
	if err != nil {
		return nil, err
	}
	b.prev = prev
	res, err := j.takeSnapshot(b, dir, "stop")
	if err == nil {
		j.stopped.Store(true)
		j.stopSavepoint.Store(&res.Path) // before the sources learn the outcome and the job ends
	}
	b.decision = err
	close(b.decided)
	return res, err
}

// stateReadAfterFinish reports whether anything reads the state from the backend once the
// instances finish (a final savepoint or checkpoint), so that they must write their cached
// state back. After a stop with a savepoint nothing does (not even --final-savepoint: the
// stop's savepoint is the final one): the savepoint holds the state, the next job starts
// from it, and the job's database is discarded. Skipping the write-back takes it out of a
// pit stop's downtime (seconds for a million dirty entries).
func (j *Job) stateReadAfterFinish() bool {
	return j.StopSavepoint() == ""
}

// StopSavepoint is the path of the savepoint a successful StopWithSavepoint wrote ("" when
// the job was not stopped that way). It is set before the job can end.
func (j *Job) StopSavepoint() string {
	if p := j.stopSavepoint.Load(); p != nil {
		return *p
	}
	return ""
}

// takeSnapshot injects b into every source, waits for all parts and writes the savepoint.
// A job that has already ended takes no savepoint (ErrJobEnded).
func (j *Job) takeSnapshot(b *barrier, dir, trigger string) (*SavepointResult, error) {
	defer j.coord.end(b)
	select {
	case <-j.done:
		return nil, ErrJobEnded
	default:
	}
	for _, s := range j.sources {
		s.inject(b)
	}
	select {
	case <-b.complete:
	case <-j.done:
		return nil, ErrJobEnded
	}
	pause := b.pause().Milliseconds()
	if b.err != nil {
		return nil, b.err
	}
	res, err := j.writeSnapshot(b, dir, trigger)
	if err != nil {
		return nil, err
	}
	if err := j.notifyComplete(b); err != nil {
		j.fail(err)
	}
	res.Pause = pause
	res.Duration = j.now().Sub(b.started).Milliseconds()
	b.mu.Lock()
	if !b.sourcesStopped.IsZero() {
		res.SourcesStopped = b.sourcesStopped.UnixMilli()
	}
	b.mu.Unlock()
	j.snapshotDone(trigger, res)
	return res, nil
}

// writeSnapshot writes the parts of a complete barrier as a savepoint in dir.
func (j *Job) writeSnapshot(b *barrier, dir, trigger string) (*SavepointResult, error) {
	w, err := savepoints.Create(dir, j.id)
	if err != nil {
		return nil, err
	}
	if b.track {
		w.Scratch() // the base of an incremental stop, removed once mapped
	}
	sum := sha256.Sum256(j.p.Raw)
	meta := &savepoints.Metadata{
		FormatVersion: savepoints.FormatVersion1, JobID: j.id, Pipeline: j.p.Name,
		Created: j.now().UTC(), Trigger: trigger, PipelineYAML: string(j.p.Raw),
		PipelineSHA256: hex.EncodeToString(sum[:]), MaxParallelism: j.maxPar,
	}
	res := &SavepointResult{}
	var total int64
	for _, p := range b.parts {
		for _, c := range p.states {
			total += c.Entries()
		}
	}
	bar := j.progress("writing "+trigger+" savepoint", total)
	defer bar.Done()
	for _, n := range j.p.Order {
		parts := b.partsOf(n.UID, n.Parallelism)
		om := savepoints.OperatorMeta{UID: n.UID, Kind: n.Kind, Parallelism: n.Parallelism,
			Offsets: sourceOffsets(n, parts), States: []savepoints.StateMeta{}}
		if kt := n.KeyType(); kt != nil && n.Keyed() {
			om.KeyType = kt.String()
		}
		if len(n.States) > 0 {
			for si, d := range n.States {
				sw, err := w.State(n.UID, d.Name)
				if err != nil {
					w.Abort()
					return nil, err
				}
				chunks := make([]*savepoints.Chunk, 0, len(parts))
				for _, p := range parts {
					if si < len(p.states) {
						chunks = append(chunks, &p.states[si])
						res.Entries += p.states[si].Entries()
					}
				}
				if err := sw.AddChunks(chunks); err != nil {
					w.Abort()
					return nil, fmt.Errorf("savepoint: %q state %q: %w", n.UID, d.Name, err)
				}
				for _, c := range chunks {
					bar.Add(c.Entries())
				}
				om.States = append(om.States, savepoints.StateMeta{
					Name: d.Name, Kind: string(d.Kind), Schema: d.Schema.String(),
					KeyType: typeString(stateKeyType(n, d)), TTLMs: d.TTL.Milliseconds(),
				})
			}
		}
		meta.Operators = append(meta.Operators, om)
	}
	path, err := w.Commit(meta)
	if err != nil {
		return nil, err
	}
	j.noteSnapshot(meta)
	for _, o := range meta.Operators {
		for _, s := range o.States {
			res.Bytes += s.Bytes
		}
	}
	res.Path = path
	return res, nil
}

// stateKeyType is the type of the keys a state's table holds: the node's key, or for the
// per-window states of windowed kinds the tuple (key, start, end).
func stateKeyType(n *pipeline.Node, d *pipeline.StateDesc) *schema.Type {
	switch n.OpKind() {
	case pipeline.OpWindow, pipeline.OpWindowAll, pipeline.OpWindowJoin, pipeline.OpCoGroup:
		if d.Name != pipeline.StateTimers {
			return WindowStateKeyType(n)
		}
		return windowKeyType(n)
	}
	return n.KeyType()
}

// typeString is a type's canonical expression ("" for none).
func typeString(t *schema.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}
