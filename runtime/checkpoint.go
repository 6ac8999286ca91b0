package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pipectl/pipectl/savepoints"
)

// Checkpoints (docs/operations.md, Checkpoints and recovery) are snapshots in the savepoint format, taken periodically with the
// same aligned barriers into the job's state directory. Only the latest complete one is kept:
// a new checkpoint is committed (renamed into place) before the older ones are removed, so at
// any moment — kill -9 included — the directory holds at least one complete checkpoint once
// the first has been written.

// LatestCheckpoint returns the newest complete checkpoint in dir (nil when there is none).
// Incomplete ones (hidden temp directories, damaged ones) are skipped.
func LatestCheckpoint(dir string) (*savepoints.Savepoint, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var found []*savepoints.Savepoint
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		sp, err := savepoints.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		found = append(found, sp)
	}
	if len(found) == 0 {
		return nil, nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Meta.Created.Before(found[j].Meta.Created) })
	return found[len(found)-1], nil
}

// RemoveCheckpoints deletes every checkpoint in dir.
func RemoveCheckpoints(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// checkpointLoop takes a checkpoint every interval until the job ends.
func (j *Job) checkpointLoop(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-j.done:
			return
		case <-t.C:
			if _, err := j.Checkpoint(); err != nil && !errors.Is(err, ErrJobEnded) {
				j.log.Warn("checkpoint failed", "error", err.Error())
			}
		}
	}
}

// Checkpoint takes a checkpoint into the configured checkpoint directory and removes the
// older ones.
func (j *Job) Checkpoint() (*SavepointResult, error) {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	if j.rs.restarting {
		return nil, ErrRestarting
	}
	j.cpMu.Lock()
	defer j.cpMu.Unlock()
	b, err := j.coord.begin(barrierCheckpoint, false, j.cfg.CheckpointDir)
	if err != nil {
		return nil, err
	}
	res, err := j.takeSnapshot(b, j.cfg.CheckpointDir, "checkpoint")
	if err != nil {
		return nil, err
	}
	j.rs.lastCheckpoint = res.Path
	j.pruneCheckpoints(res.Path)
	j.lastCheckpointMs.Store(res.Duration)
	return res, nil
}

// StopWithCheckpoint stops the job like StopWithSavepoint, keeping the last checkpoint in
// the checkpoint directory (a service manager's SIGTERM: running again resumes).
func (j *Job) StopWithCheckpoint() error {
	j.signaled.Store(true)
	j.stopRestarting()
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	if j.rs.restarting {
		return ErrRestarting // the wait for the restart ends: the job stops
	}
	j.cpMu.Lock()
	defer j.cpMu.Unlock()
	b, err := j.coord.begin(barrierStop, false, j.cfg.CheckpointDir)
	if err != nil {
		j.stop()
		return err
	}
	res, err := j.takeSnapshot(b, j.cfg.CheckpointDir, "checkpoint")
	if err == nil {
		j.stopped.Store(true)
		j.rs.lastCheckpoint = res.Path
		j.pruneCheckpoints(res.Path)
	}
	b.decision = err
	close(b.decided)
	if err != nil {
		j.stop()
	}
	return err
}

// pruneCheckpoints removes every checkpoint but keep.
func (j *Job) pruneCheckpoints(keep string) {
	entries, err := os.ReadDir(j.cfg.CheckpointDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(j.cfg.CheckpointDir, e.Name())
		if p != keep && e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			savepoints.Dispose(p)
		}
	}
}
