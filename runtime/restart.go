package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/savepoints"
)

// A job with a `restart:` policy that fails with a retryable error (connectors.IsRetryable:
// I/O, broker, database, timeouts) restarts inside its process: every subtask has ended, the
// state is thrown away and restored from this run's latest complete checkpoint, else from
// where the run started (its savepoint, or empty state); sources resume from the offsets
// restored, and sinks are cut back to their committed state. The Job value stays the same, so
// its control socket and metrics go on answering, and the job stays RUNNING. Attempts count
// restarts in a row: a run that lasts restartResetAfter without failing starts the count
// again. Any other failure, a cancel or a stop ends the job.

// restartResetAfter is how long an attempt runs without failure before the count of restarts
// in a row starts again.
const restartResetAfter = 10 * time.Minute

// maxRestartDelay caps the doubling of restart.delay.
const maxRestartDelay = time.Minute

// ErrRestarting is returned by Savepoint, StopWithSavepoint and Checkpoint while the job is
// restarting after a failure.
var ErrRestarting = errors.New("the job is restarting after a failure; try again once it runs")

// restartState is the restart bookkeeping of a job.
type restartState struct {
	// attemptMu guards the per-attempt fields (groups, subtasks, sources, coord, done,
	// failOnce, err, restored) against callers from outside the job while a restart
	// replaces them: those callers hold it for reading, the restart for writing.
	attemptMu  sync.RWMutex
	restarting bool // guarded by attemptMu

	restarts      int64 // restarts in all; guarded by attemptMu
	streak        int   // restarts in a row (Run's goroutine only)
	attemptStart  time.Time
	interrupt     chan struct{} // closed by Cancel and Stop: no more restarts
	interruptOnce sync.Once
	canceled      atomic.Bool

	lastCheckpoint string // path of this job's latest checkpoint; guarded by cpMu
}

// stopRestarting ends any wait for a restart: the job was canceled or stopped.
func (j *Job) stopRestarting() {
	j.rs.interruptOnce.Do(func() { close(j.rs.interrupt) })
}

// Run runs the job until its bounded sources are exhausted and all in-flight work is done,
// it is stopped (nil), canceled (ErrCanceled), or fails (the first error) beyond what its
// restart policy retries.
func (j *Job) Run(ctx context.Context) error {
	err := j.runOnce(ctx)
	for {
		delay, ok := j.restartDelay(err)
		if !ok {
			return err
		}
		if err = j.waitRestart(ctx, delay, err); err == nil {
			err = j.reset()
		}
		switch {
		case errors.Is(err, errStoppedWhileRestarting):
			return nil
		case errors.Is(err, ErrCanceled):
			return err
		case err != nil:
			j.fail(err) // the attempt that could not be prepared has ended
			continue
		}
		err = j.runOnce(ctx)
	}
}

// restartDelay decides whether the attempt that ended with err restarts, and after how long.
func (j *Job) restartDelay(err error) (time.Duration, bool) {
	policy := j.p.Restart
	if err == nil || policy.Attempts <= 0 || errors.Is(err, ErrCanceled) || j.rs.canceled.Load() ||
		j.stopped.Load() || !connectors.IsRetryable(err) {
		return 0, false
	}
	if j.now().Sub(j.rs.attemptStart) >= restartResetAfter {
		j.rs.streak = 0
	}
	if j.rs.streak >= policy.Attempts {
		j.log.Error("job failed; no restart left", "restarts", j.rs.streak, "error", err.Error())
		return 0, false
	}
	j.rs.streak++
	return restartBackoff(policy.Delay, j.rs.streak), true
}

// restartBackoff is the wait before the n-th restart in a row (n ≥ 1): delay, doubling with
// each restart up to a minute (a longer delay is kept as it is).
func restartBackoff(delay time.Duration, n int) time.Duration {
	limit := max(delay, maxRestartDelay)
	d := delay
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// waitRestart announces the restart and waits delay on the job's clock. It returns nil to
// restart, ErrCanceled when the job is canceled meanwhile, errStoppedWhileRestarting when it
// is stopped.
func (j *Job) waitRestart(ctx context.Context, delay time.Duration, cause error) error {
	j.rs.attemptMu.Lock()
	j.rs.restarting = true
	j.rs.restarts++
	j.rs.attemptMu.Unlock()
	j.cpMu.Lock()
	from := "empty state"
	switch {
	case j.rs.lastCheckpoint != "":
		from = "checkpoint " + j.rs.lastCheckpoint
	case j.cfg.Restore != nil:
		from = j.cfg.Restore.Path
	}
	j.cpMu.Unlock()
	j.log.Warn(fmt.Sprintf("job failed; restart %d of %d in %s from %s", j.rs.streak, j.p.Restart.Attempts, delay, from),
		"error", cause.Error())
	timer := make(chan struct{})
	stop := j.clock().AfterFunc(delay, func() { close(timer) })
	defer stop()
	select {
	case <-timer:
		return nil
	case <-ctx.Done():
		return ErrCanceled
	case <-j.rs.interrupt:
	}
	j.rs.attemptMu.Lock()
	defer j.rs.attemptMu.Unlock()
	j.rs.restarting = false
	if j.rs.canceled.Load() {
		return ErrCanceled
	}
	return errStoppedWhileRestarting
}

// errStoppedWhileRestarting ends a job stopped (a signal) while it waited for a restart: Run
// returns nil for it.
var errStoppedWhileRestarting = errors.New("stopped while waiting for a restart")

// reset prepares the next attempt: fresh subtasks, state and offsets from the restart point.
func (j *Job) reset() error {
	sp, err := j.restartPoint()
	if err != nil {
		return err
	}
	if err := j.clearState(); err != nil {
		return err
	}
	j.rs.attemptMu.Lock()
	j.groups, j.subtasks, j.sources, j.instances = nil, nil, nil, nil
	j.coord = newCoordinator(j)
	j.async.reopen()
	j.done = make(chan struct{})
	j.failOnce = sync.Once{}
	j.err = nil
	j.restoreOffsets = nil
	j.live.reset()
	j.rs.attemptMu.Unlock()
	var sum *RestoreSummary
	if sp != nil {
		if sum, err = j.restore(sp); err != nil {
			return err
		}
	}
	j.rs.attemptMu.Lock()
	defer j.rs.attemptMu.Unlock()
	j.restored = sum
	err = j.plan()
	j.startLoading()
	if err != nil {
		releaseChecks(j.takeChecks())
		j.closeConnectors()
		return err
	}
	j.rs.restarting = false
	switch {
	case j.rs.canceled.Load(): // canceled or stopped while the restart was prepared
		j.closeConnectors()
		return ErrCanceled
	case j.stopped.Load():
		j.closeConnectors()
		return errStoppedWhileRestarting
	}
	if sum != nil {
		j.log.Info(sum.String())
	}
	return nil
}

// restartPoint is the snapshot an attempt restarts from: this job's latest complete
// checkpoint, else the savepoint or checkpoint the job started from (nil: empty state).
func (j *Job) restartPoint() (*savepoints.Savepoint, error) {
	j.cpMu.Lock()
	path := j.rs.lastCheckpoint
	j.cpMu.Unlock()
	if path == "" {
		return j.cfg.Restore, nil
	}
	sp, err := savepoints.Open(path)
	if err != nil {
		return nil, fmt.Errorf("restart from checkpoint: %w", err)
	}
	return sp, nil
}

// clearState removes every entry of every table: the attempt's state is replaced by the
// restart point's.
func (j *Job) clearState() error {
	ids, err := j.backend.Tables()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	for _, id := range ids {
		t, err := j.backend.Table(id.UID, id.State)
		if err == nil {
			err = t.Clear()
		}
		if err != nil {
			return fmt.Errorf("restart: clear %s/%s: %w", id.UID, id.State, err)
		}
	}
	return nil
}
