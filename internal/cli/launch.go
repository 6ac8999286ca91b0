package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/internal/metrics"
	"github.com/pipectl/pipectl/internal/progress"
	"github.com/pipectl/pipectl/internal/statedir"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/runtime"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// handOverTimeout bounds how long a pit stop's new job waits for the old one to release its
// state directory and file sinks.
const handOverTimeout = time.Minute

// launch is a run prepared up to its state: everything a job needs before it owns its state
// directory is done, and everything that can refuse the run has been checked. A pit stop
// prepares its new job this way while the old job still runs.
type launch struct {
	gs       *GlobalState
	p        *pipeline.Pipeline
	o        runOptions
	home     string
	id       string
	detached bool
	stateDir string
	minFree  uint64
	spDir    string
	budget   runtime.MemoryBudget
	// previous is the job this one takes over from (upgrade --job), or "".
	previous string
	// lock and releaseSinks are the claims on the state directory and the file sinks: taken
	// by prepareRun when they are free, by start when previous held them.
	lock         *statedir.Lock
	releaseSinks func()
	// backend is the job's live database, once opened (closeBackend discards it).
	backend      statebackend.Backend
	closeBackend func() error
	// releaseHeap lets go of the heap a pit stop's new job warmed while it waited (warmHeap).
	releaseHeap func()
	// handOver times the steps of a pit stop's hand-over, for the line that reports them.
	handOver handOverTimes
}

// prepareRun prepares the run of p: its job id, state directory (checked for free disk
// space), savepoint directory and memory budget. It claims the state directory and the file
// sinks when they are free; those that job previous holds (the job an upgrade replaces) are
// claimed by start as previous releases them. Any other holder refuses the run.
func prepareRun(gs *GlobalState, p *pipeline.Pipeline, o runOptions, previous string) (*launch, error) {
	h, err := home(gs)
	if err != nil {
		return nil, err
	}
	l := &launch{gs: gs, p: p, o: o, home: h, previous: previous}
	id, detached := gs.LookupEnv(envDetached)
	if !detached || !jobs.ValidID(id) {
		id, detached = jobs.NewID(), false
	}
	l.id, l.detached = id, detached
	if err := secureJobsDir(gs, h); err != nil {
		return nil, err
	}
	l.stateDir = o.stateDir
	if l.stateDir == "" {
		l.stateDir = jobs.DefaultStateDir(h, p.Name)
	} else if l.stateDir, err = absPath(gs, l.stateDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", l.stateDir, err)
	}
	if l.minFree, err = minFreeDisk(gs); err != nil {
		return nil, err
	}
	if p.StateBackend == "memory" {
		l.minFree = 0 // only checkpoints go to disk, and their writes report a full disk
	}
	if err := checkFreeDisk(l.stateDir, l.minFree); err != nil {
		return nil, err
	}
	lock, err := statedir.Claim(l.stateDir, id)
	var busy *statedir.BusyError
	if err != nil && !(errors.As(err, &busy) && previous != "" && busy.JobID == previous) {
		return nil, err
	}
	l.lock = lock
	release, err := jobs.ClaimSinkFiles(h, fileSinkPaths(p), id, p.Name)
	var sinkBusy *jobs.SinkBusyError
	if err != nil && !(errors.As(err, &sinkBusy) && previous != "" && sinkBusy.JobID == previous) {
		l.abort()
		return nil, err
	}
	l.releaseSinks = release
	if l.spDir, err = savepointDir(gs, h, p, o.savepointDir); err != nil {
		l.abort()
		return nil, err
	}
	// A savepoint directory that cannot be one fails now, not at the job's first savepoint.
	if fi, err := os.Stat(l.spDir); err == nil && !fi.IsDir() {
		l.abort()
		return nil, fmt.Errorf("savepoint directory %s is not a directory", l.spDir)
	}
	l.budget = memoryBudget(gs, p, o.memory)
	l.releaseHeap = func() {}
	if previous != "" {
		// Two thirds of the Go heap's limit: most of what a restore faults in, while the
		// collector, which runs as the heap nears the limit, still leaves the warm pages alone.
		// At most maxWarmHeap: the old job still holds its own memory meanwhile.
		l.releaseHeap = warmHeap(min(l.budget.GoLimit*2/3, maxWarmHeap))
		// The new job's database is its own directory, which no other job touches: it is
		// opened now, while the old job runs, rather than during the downtime.
		if err := l.openBackend(); err != nil {
			l.abort()
			return nil, err
		}
	}
	return l, nil
}

// abort releases what prepareRun claimed (the database it may have opened stays open:
// close discards it too).
func (l *launch) abort() {
	if l.releaseSinks != nil {
		l.releaseSinks()
	}
	if l.lock != nil {
		l.lock.Release()
	}
}

// claim takes what prepareRun left to the hand-over: the state directory and the file sinks,
// as the previous job releases them.
func (l *launch) claim() error {
	ctx, cancel := context.WithTimeout(context.Background(), handOverTimeout)
	defer cancel()
	var err error
	if l.lock == nil {
		if l.lock, err = statedir.ClaimAfter(ctx, l.stateDir, l.id, l.previous); err != nil {
			return err
		}
	}
	if l.releaseSinks == nil {
		l.releaseSinks, err = jobs.ClaimSinkFilesAfter(ctx, l.home, fileSinkPaths(l.p), l.id, l.p.Name, l.previous)
	}
	return err
}

// start runs the prepared job in this process until it ends: it opens the job's state (see
// open), resolves where the run starts (sp, else the latest checkpoint, else empty), restores
// and runs. onRunning (upgrade) is called when the job's sources start reading.
func (l *launch) start(sp *savepoints.Savepoint, onRunning func(started time.Time)) error {
	if err := l.open(); err != nil {
		return err
	}
	return l.run(sp, onRunning)
}

// open takes the state directory and the file sinks (as the previous job releases them) and
// opens the job's live database. On error nothing stays claimed or open.
func (l *launch) open() error {
	if err := l.claim(); err != nil {
		l.close()
		return err
	}
	l.handOver.claimed = time.Now()
	go statedir.RemoveStaleDatabases(l.stateDir, statedir.DatabaseDir(l.stateDir, l.id))
	if l.backend == nil {
		if err := l.openBackend(); err != nil {
			l.abort()
			return err
		}
	}
	l.handOver.opened = time.Now()
	return nil
}

// openBackend opens the job's live database, a fresh one in its own directory of the state
// directory.
func (l *launch) openBackend() error {
	dbDir := statedir.DatabaseDir(l.stateDir, l.id)
	backend, err := statebackend.Open(statebackend.Options{Kind: backendKind(l.p), Dir: dbDir, Fresh: true, Memory: l.budget.Backend, ResidentLimit: l.budget.Total})
	if err != nil {
		return err
	}
	l.backend = backend
	l.closeBackend = func() error {
		if d, ok := backend.(statebackend.Discarder); ok {
			return d.Discard()
		}
		err := backend.Close()
		os.RemoveAll(dbDir)
		return err
	}
	return nil
}

// close gives up a prepared or opened job that will not run: its claims are released, then
// its database is discarded.
func (l *launch) close() {
	l.abort()
	if l.closeBackend != nil {
		l.closeBackend()
		l.closeBackend = nil
	}
}

// run runs the opened job until it ends.
func (l *launch) run(sp *savepoints.Savepoint, onRunning func(started time.Time)) error {
	gs, p, o, h, id := l.gs, l.p, l.o, l.home, l.id
	// The job ends in this order: the state directory is released, then the job lock (from
	// then on the job counts as exited: stop and upgrade go on, and the next job may claim the
	// state directory at once), and only then the live database is closed and removed. Each
	// job has its own database directory, so the next one never waits for that.
	var closeJob func() error
	defer func() {
		l.abort()
		if closeJob != nil {
			closeJob()
		}
		l.close()
	}()

	log := newLogger(gs.Stderr, o.logFormat)
	stdout := gs.Stdout
	paths := jobs.PathsOf(h, id)
	if l.detached {
		if err := os.MkdirAll(paths.Dir, 0o700); err != nil {
			return err
		}
		f, err := os.OpenFile(paths.Stdout, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		stdout = f
	}
	from, err := statedir.Resolve(l.stateDir, o.fresh, sp)
	if err != nil {
		return err
	}
	if from.Origin == statedir.FromCheckpoint {
		cp := from.Snapshot
		fmt.Fprintf(gs.Stderr, "Resuming from checkpoint %s (taken %s); --fresh starts empty\n", cp.Path, cp.Meta.Created.Local().Format(time.RFC3339))
	}
	interval := p.CheckpointInterval
	if o.checkpointInterval > 0 {
		interval = o.checkpointInterval
	}
	cpDir := statedir.CheckpointDir(l.stateDir)
	if l.previous != "" {
		onRunning = l.reportHandOver(onRunning)
	}
	cfg := runtime.Config{
		Pipeline: p, JobID: id, Backend: l.backend, Stdout: stdout, Log: log,
		Restore: from.Snapshot, AllowNonRestoredState: o.allowNonRestored, OnSourcesStarted: onRunning,
		CheckpointDir: cpDir, CheckpointInterval: interval, Memory: l.budget,
		Progress: func(label string, total int64) runtime.Progress {
			return progress.New(gs.Stderr, label, total)
		},
	}
	if o.finalSavepoint {
		cfg.FinalSavepointDir = l.spDir
	}
	job, err := newJob(gs, cfg)
	if err != nil {
		return err
	}
	l.handOver.markPlanned()
	copyYAML, err := pipelineCopy(p, o.params)
	if err != nil {
		return err
	}
	// The control socket serves before the job is listed, so that whoever sees the job
	// (`run -d` returns its id then) can talk to it at once.
	if err := os.MkdirAll(paths.Dir, 0o700); err != nil {
		return err
	}
	ctl := &controller{gs: gs, job: job, p: p, defaultDir: l.spDir, onSavepoint: from.PruneStale}
	srv, err := jobs.Serve(paths.Socket, ctl)
	if err != nil {
		return err
	}
	defer srv.Close()
	// Before job.json: whoever finds the job finds the environment its pipeline copy needs.
	if err := jobs.WriteEnv(h, id, p.Env); err != nil {
		return err
	}
	jb, err := jobs.Create(h, jobs.Info{
		ID: id, Name: p.Name, Pipeline: p.File, PID: os.Getpid(), Status: jobs.StatusRunning,
		Started: time.Now(), StateDir: l.stateDir,
	}, copyYAML)
	if err != nil {
		return err
	}
	closeJob = jb.Close
	job.OnSnapshot(func(s runtime.SnapshotInfo) { recordSnapshot(jb, job, s) })

	closeMetrics := func() {}
	if o.metricsAddr != "" {
		ms, err := l.serveMetrics(job, log)
		if err != nil {
			jb.SetStatus(jobs.StatusFailed, jobs.Extra{Error: err.Error()})
			return err
		}
		closeMetrics = func() { ms.Close() }
		log.Info("serving metrics", "url", "http://"+ms.Addr()+"/metrics")
	}
	fmt.Fprint(gs.Stderr, startedLines(id, p.Name, job.Restored()))
	sigs, stopSignals := gs.Signals()
	defer stopSignals()
	go func() {
		n := 0
		for range sigs {
			n++
			if n > 1 {
				gs.Exit(1)
			}
			log.Info("stopping on signal; a second signal exits at once")
			if interval > 0 {
				go func() {
					if err := job.StopWithCheckpoint(); err != nil {
						log.Warn("last checkpoint failed", "error", err.Error())
					}
				}()
			} else {
				job.Stop()
			}
		}
	}()
	go guardDisk(job, l.stateDir, l.minFree)
	runErr := job.Run(context.Background())
	closeMetrics() // its address is free for a pit stop's new job
	// A failed job keeps its latest checkpoint, and so does one stopped by a signal: running
	// it again resumes. Every other end removes them (docs/operations.md, Checkpoints and recovery).
	failed := runErr != nil && !errors.Is(runErr, runtime.ErrCanceled)
	if !failed && !job.StoppedBySignal() {
		if err := runtime.RemoveCheckpoints(cpDir); err != nil {
			log.Warn("could not remove checkpoints", "error", err.Error())
		}
	}
	// The state directory and the file sinks are free before the final status is written: a
	// pit stop's new job takes them over while this one records its end.
	l.abort()
	return finishJob(gs, jb, job, runErr)
}

// reportHandOver wraps onRunning so that the hand-over's report line comes first.
func (l *launch) reportHandOver(onRunning func(time.Time)) func(time.Time) {
	return func(t time.Time) {
		fmt.Fprintf(l.gs.Stderr, "Took over from job %s: %s\n", l.previous, l.handOver.report(t))
		if onRunning != nil {
			onRunning(t)
		}
	}
}

// metricsPoll is how often a pit stop's new job tries the metrics address again while the old
// job still serves on it.
const metricsPoll = 5 * time.Millisecond

// serveMetrics serves the job's metrics on --metrics-addr. A pit stop's new job usually takes
// the old job's address, which the old job frees as it ends: while the address is in use, it
// tries again until the hand-over's deadline.
func (l *launch) serveMetrics(job *runtime.Job, log *slog.Logger) (*metrics.Server, error) {
	deadline := time.Now().Add(handOverTimeout)
	t := time.NewTicker(metricsPoll)
	defer t.Stop()
	for {
		ms, err := metrics.Serve(l.o.metricsAddr, job, log)
		if err == nil || l.previous == "" || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return ms, err
		}
		<-t.C
	}
}

// backendKind is the state backend a job opens: its pipeline's, except that a job with no
// keyed state never reads or writes one, so it gets the memory backend instead of a database
// on disk (whose memtables alone would be most of a small job's memory).
func backendKind(p *pipeline.Pipeline) string {
	for _, n := range p.Order {
		if n.Keyed() || n.OpKind() == pipeline.OpWindowAll || len(n.States) > 0 {
			return p.StateBackend
		}
	}
	return statebackend.KindMemory
}
