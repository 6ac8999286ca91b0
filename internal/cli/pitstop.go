package cli

// The pit stop, `upgrade --job`: the new job is prepared before the old one stops, so that the
// downtime is the old job's stop and the hand-over, not the start of a process.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
)

// envFaultStandby makes a pit stop's new job fail right after the old job stopped, for the
// tests of the rollback only: `PIPECTL_FAULT_STANDBY=fail` returns an error, `kill` kills the
// new job's process with SIGKILL (a standby's; in the foreground that is upgrade itself). It
// is not for production.
const envFaultStandby = "PIPECTL_FAULT_STANDBY"

// successor is the new job of a pit stop, prepared while the old job still runs.
type successor interface {
	// begin hands the savepoint at path to the new job, once the old job has stopped; the new
	// job starts taking over at once.
	begin(path string)
	// finish waits until the new job runs (stoppedMs: when the old job's sources stopped;
	// exited yields once the old job's process is gone). A new job that fails to start
	// restarts the old pipeline from the savepoint.
	finish(path string, stoppedMs int64, exited <-chan error) error
	// abort gives the prepared job up before begin: the old job was not stopped.
	abort()
}

// pitStop replaces the running job jobID by the pipeline p (loaded from file, already
// checked against the job's pipeline): the new job is prepared (in this process in the
// foreground, a standby process with -d), then the old job stops with a savepoint that the
// new job restores. Whatever can refuse the new job refuses it before the old job stops.
func pitStop(gs *GlobalState, file string, p *pipeline.Pipeline, o runOptions, jobID string) error {
	old, err := jobs.Find(mustHome(gs), jobID)
	if err != nil {
		return err
	}
	var next successor
	if o.detach {
		next, err = startStandby(gs, file, o, old)
	} else {
		next, err = prepareLocal(gs, p, o, old)
	}
	if err != nil {
		return fmt.Errorf("the new pipeline cannot start, the job was not stopped: %w", err)
	}
	// Incremental: the old job writes a savepoint while it runs, then stops with a delta of it.
	path, data, err := requestStop(gs, jobID, jobs.Request{Op: jobs.OpStop, Dir: o.savepointDir, Incremental: true})
	if err != nil {
		next.abort()
		return err
	}
	fmt.Fprintf(gs.Stderr, "savepoint: %s\n", path)
	exited := make(chan error, 1)
	go func() {
		_, err := waitExited(gs, jobID)
		exited <- err
	}()
	next.begin(path)
	// The report against the savepoint is for the user; the new job checks the savepoint
	// itself (after verifying it) and refuses it, which rolls back, when it does not fit.
	if meta, err := savepointMetadata(path); err == nil {
		reportCompat(gs, meta, p, o.allowNonRestored)
	}
	return next.finish(path, data.SourcesStopped, exited)
}

// rollBack restarts the old pipeline from the savepoint once the old job's process is gone,
// and returns the pit stop's error.
func rollBack(gs *GlobalState, old jobs.Info, sp string, exited <-chan error, cause error) error {
	if err := <-exited; err != nil {
		return fmt.Errorf("the new pipeline failed to start (%v), and the old job did not exit (%v); restart it with: pipectl run -d --from-savepoint %s %s", cause, err, sp, old.Pipeline)
	}
	return restartOld(gs, old, sp, cause)
}

// savepointMetadata reads the _metadata.json of the savepoint at path without verifying it:
// enough for a compatibility report. The job that restores the savepoint opens and verifies
// all of it.
func savepointMetadata(path string) (*savepoints.Metadata, error) {
	data, err := os.ReadFile(filepath.Join(path, savepoints.MetadataFile))
	if err != nil {
		return nil, unreadableSavepoint(path, err)
	}
	var m savepoints.Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, unreadableSavepoint(path, err)
	}
	return &m, nil
}

// handOver starts the prepared job l from the savepoint at path: it opens and verifies the
// savepoint and checks that it fits while it takes the state directory (as the old job
// releases it) and opens its database, then restores and runs.
func handOver(gs *GlobalState, l *launch, path string, onRunning func(time.Time)) error {
	l.handOver.markReceived()
	l.releaseHeap()
	if fault, ok := gs.LookupEnv(envFaultStandby); ok {
		if fault == "kill" {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		l.close()
		return fmt.Errorf("%s is set: the new job fails after the old one stopped", envFaultStandby)
	}
	var sp *savepoints.Savepoint
	var verifyErr error
	verified := make(chan struct{})
	go func() {
		defer close(verified)
		if sp, verifyErr = openSavepoint(gs, path); verifyErr == nil {
			verifyErr = checkRestorable(gs, sp, l.p, l.o.allowNonRestored)
		}
		l.handOver.verified = time.Now()
	}()
	openErr := l.open()
	<-verified
	if openErr != nil {
		return openErr
	}
	if verifyErr != nil {
		l.close()
		return verifyErr
	}
	return l.run(sp, onRunning)
}

// localSuccessor is the new job of a foreground pit stop: it runs in this process.
type localSuccessor struct {
	gs  *GlobalState
	l   *launch
	old jobs.Info
}

// prepareLocal prepares the new job of a foreground pit stop in this process.
func prepareLocal(gs *GlobalState, p *pipeline.Pipeline, o runOptions, old jobs.Info) (successor, error) {
	l, err := prepareRun(gs, p, o, old.ID)
	if err != nil {
		return nil, err
	}
	return &localSuccessor{gs: gs, l: l, old: old}, nil
}

func (s *localSuccessor) abort() { s.l.close() }

// begin does nothing: finish takes over in this process.
func (s *localSuccessor) begin(string) {}

// finish takes over and runs the new job in the foreground until it ends.
func (s *localSuccessor) finish(path string, stoppedMs int64, exited <-chan error) error {
	var started time.Time
	err := handOver(s.gs, s.l, path, func(t time.Time) {
		started = t
		printDowntime(s.gs, stoppedMs, t.UnixMilli())
	})
	if err != nil && (started.IsZero() || time.Since(started) < startGrace) {
		return rollBack(s.gs, s.old, path, exited, err) // it failed to start
	}
	return err
}

// handOverTimes are the moments of a pit stop's hand-over in the new job, and the process's
// resource usage when the savepoint arrived and when the job was planned.
type handOverTimes struct {
	received, verified, claimed, opened, planned time.Time
	usageReceived, usagePlanned                  syscall.Rusage
}

// markReceived records the savepoint's arrival.
func (t *handOverTimes) markReceived() {
	t.received = time.Now()
	syscall.Getrusage(syscall.RUSAGE_SELF, &t.usageReceived)
}

// markPlanned records the end of the restore and planning.
func (t *handOverTimes) markPlanned() {
	t.planned = time.Now()
	syscall.Getrusage(syscall.RUSAGE_SELF, &t.usagePlanned)
}

// report is the hand-over's report line, once the sources started: where the time between
// receiving the savepoint and starting the sources went (the savepoint is verified while the
// state directory is taken and the database opened), and the CPU time and page faults until
// the job was planned.
func (t handOverTimes) report(started time.Time) string {
	ms := func(a, b time.Time) int64 { return b.Sub(a).Milliseconds() }
	ready := t.opened // the restore starts once both the database and the savepoint are
	if t.verified.After(ready) {
		ready = t.verified
	}
	cpu := func(u syscall.Rusage) time.Duration {
		return time.Duration(u.Utime.Nano() + u.Stime.Nano())
	}
	return fmt.Sprintf("savepoint verified in %d ms, state directory taken %d ms after the savepoint arrived, database opened in %d ms, restored and planned in %d ms, sources started %d ms later (until planned: %d ms of CPU, %d page faults)",
		ms(t.received, t.verified), ms(t.received, t.claimed), ms(t.claimed, t.opened), ms(ready, t.planned), ms(t.planned, started),
		(cpu(t.usagePlanned) - cpu(t.usageReceived)).Milliseconds(), t.usagePlanned.Minflt-t.usageReceived.Minflt)
}
