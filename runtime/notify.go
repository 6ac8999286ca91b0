package runtime

import (
	"github.com/pipectl/pipectl/connectors"
)

// notifyComplete tells the sources and sinks that implement connectors.SnapshotListener that
// the snapshot of b is durable, each with the part it gave (Flink's notifyCheckpointComplete:
// a Kafka sink commits its pre-committed transaction there). A sink that fails to commit
// fails the job; a source's failure (a group offset commit, for monitoring) is logged.
func (j *Job) notifyComplete(b *barrier) error {
	for _, s := range j.sources {
		l, ok := s.src.(connectors.SnapshotListener)
		if !ok {
			continue
		}
		if p := b.parts[instanceKey{s.inst.node.UID, s.inst.subtask}]; p != nil {
			if err := l.SnapshotComplete(p.offsets); err != nil {
				j.log.Warn("snapshot complete: "+err.Error(), "uid", s.inst.node.UID)
			}
		}
	}
	for _, in := range j.instances {
		l, ok := in.sink.(connectors.SnapshotListener)
		if !ok {
			continue
		}
		if p := b.parts[instanceKey{in.node.UID, in.subtask}]; p != nil {
			if err := l.SnapshotComplete(p.offsets); err != nil {
				return err
			}
		}
	}
	return nil
}

// hasListeners reports whether a source or sink of the job waits for completed snapshots:
// a finishing job then takes a final checkpoint so that they can commit.
func (j *Job) hasListeners() bool {
	for _, s := range j.sources {
		if _, ok := s.src.(connectors.SnapshotListener); ok {
			return true
		}
	}
	for _, in := range j.instances {
		if _, ok := in.sink.(connectors.SnapshotListener); ok {
			return true
		}
	}
	return false
}

// finalCheckpoint takes the checkpoint of a job whose instances have all finished and
// notifies its listeners: what the sinks held back for a snapshot is committed.
func (j *Job) finalCheckpoint() error {
	b, err := j.coord.begin(barrierCheckpoint, false, j.cfg.CheckpointDir)
	if err != nil {
		return err
	}
	defer j.coord.end(b)
	if err := b.waitEnded(); err != nil {
		return err
	}
	res, err := j.writeSnapshot(b, j.cfg.CheckpointDir, "checkpoint")
	if err != nil {
		return err
	}
	j.pruneCheckpoints(res.Path)
	return j.notifyComplete(b)
}

// discardSinks lets the sinks of a canceled job drop what they held back for a snapshot.
func (j *Job) discardSinks() {
	for _, in := range j.instances {
		if d, ok := in.sink.(connectors.Discarder); ok {
			if err := d.Discard(); err != nil {
				j.log.Warn("cancel: "+err.Error(), "uid", in.node.UID)
			}
		}
	}
}

// addErrors adds the retried errors of in's connector (when it counts them) to n.
func addErrors(n *int64, in *instance) *int64 {
	var c connectors.ErrorCounter
	switch {
	case in.source != nil:
		c, _ = in.source.(connectors.ErrorCounter)
	case in.sink != nil:
		c, _ = in.sink.(connectors.ErrorCounter)
	}
	if c == nil {
		return n
	}
	sum := c.Errors()
	if n != nil {
		sum += *n
	}
	return &sum
}
