package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/script"
	"github.com/pipectl/pipectl/statebackend"
)

// maxWatermark is the end of event time.
const maxWatermark = math.MaxInt64

// Progress is a progress indicator of long work.
type Progress interface {
	Add(n int64)
	Done()
}

// noProgress shows nothing.
type noProgress struct{}

func (noProgress) Add(int64) {}
func (noProgress) Done()     {}

// progress starts a progress indicator.
func (j *Job) progress(label string, total int64) Progress {
	if j.cfg.Progress == nil {
		return noProgress{}
	}
	return j.cfg.Progress(label, total)
}

// ErrCanceled is returned by Run for a job stopped by Cancel.
var ErrCanceled = errors.New("job canceled")

// ErrJobEnded is returned by Savepoint and StopWithSavepoint when the job ended (failed,
// was canceled or finished) before the snapshot was complete.
var ErrJobEnded = errors.New("the job ended before the savepoint was complete")

// Config is everything a job needs; the CLI builds it.
type Config struct {
	Pipeline *pipeline.Pipeline
	// Program is the pipeline's compiled JavaScript (nil: New compiles it).
	Program *script.Program
	JobID   string
	Backend statebackend.Backend
	// Stdout receives the records of stdout sinks.
	Stdout io.Writer
	Log    *slog.Logger
	// Now is the clock (nil: time.Now). Tests inject one.
	Now func() time.Time
	// Clock drives processing-time windows, timers and idle sources (nil: the wall clock
	// read through Now). A test that sets it sets Now to its Now as well.
	Clock Clock
	// Restore is the savepoint or checkpoint to start from (nil: empty state).
	Restore               *savepoints.Savepoint
	AllowNonRestoredState bool
	// EagerRestore loads every restored state into the backend before the job starts, even
	// where it could be served from the savepoint while loading in the background (tests and
	// benchmarks compare the two).
	EagerRestore bool
	// FinalSavepointDir, when set, makes the job write a savepoint there when it finishes or
	// is stopped by Stop (--final-savepoint); a job that StopWithSavepoint ended writes none.
	FinalSavepointDir string
	// CheckpointDir and CheckpointInterval enable periodic checkpoints (docs/operations.md, Checkpoints and recovery).
	CheckpointDir      string
	CheckpointInterval time.Duration
	// Progress, when set, makes a progress indicator for long work (restores, savepoints);
	// nil shows none.
	Progress func(label string, total int64) Progress
	// OnSourcesStarted, when set, is called as the sources start reading (once: not again
	// after a restart).
	OnSourcesStarted func(time.Time)
	// Memory divides the job's memory budget (zero: SplitMemory of the pipeline's memory:).
	// The backend must have been opened with Memory.Backend.
	Memory MemoryBudget
	// Connectors, when set, makes the connector of every source and sink in place of its
	// kind's (pipectl test: listed records in, captured records out, nothing connects).
	Connectors ConnectorFactory
}

// Job is a planned, runnable job.
type Job struct {
	inputs  inputTable // the files and topics records are read from (recordPos)
	cfg     Config
	p       *pipeline.Pipeline
	prog    *script.Program
	id      string
	backend statebackend.Backend
	log     *slog.Logger
	maxPar  int
	now     func() time.Time

	groups   []*group
	subtasks []*subtask
	// instances is every instance of the job, sources and the instances chained behind them
	// included (they run in the source's goroutine, not in a subtask of subtasks).
	instances []*instance
	// cacheScale scales every state cache's size down while the heap is over the budget's
	// expectation (watchHeap).
	cacheScale atomic.Int64
	sources    []*sourceTask
	coord      *coordinator
	async      asyncRunner // the asynchronous phases of snapshots

	stdout      *connectors.SharedWriter
	deadMu      sync.Mutex
	deadLetters map[string]*connectors.DeadLetter
	skipped     atomic.Int64
	drops       drops // records skipped or dead-lettered, per uid

	done     chan struct{}
	failOnce sync.Once
	err      error
	stopped  atomic.Bool // a stop was asked: no end-of-input watermark, sources stop
	// stopping is set while a stop-with-savepoint is in progress: the restore check gives up
	// its core to the savepoint (restore_lazy.go).
	stopping atomic.Bool
	signaled atomic.Bool // Stop was called (a signal)
	final    *SavepointResult
	// stopSavepoint is the path written by a successful StopWithSavepoint.
	stopSavepoint atomic.Pointer[string]

	tick ticker // coarse clock for flush deadlines

	cpMu             sync.Mutex // one checkpoint at a time
	lastCheckpointMs atomic.Int64
	lastSavepointMs  atomic.Int64

	pressure   pressureSampler                    // backpressure per subtask
	sizes      stateSizes                         // state sizes for Status
	live       liveKeys                           // the keys present in each keyed state
	onSnapshot atomic.Pointer[func(SnapshotInfo)] // see OnSnapshot

	restored       *RestoreSummary
	lazy           map[lazyKey]*lazyState      // states restored lazily, until planned (restore_lazy.go)
	checks         []*restoreCheck             // their checks, until the attempt runs
	loading        atomic.Int32                // subtasks still loading lazily restored state
	loadStart      time.Time                   // when they started
	restoreOffsets map[string]map[string]int64 // uid -> offsets from the restored snapshot

	stateMu        sync.Mutex
	sourcesStarted time.Time

	cacheBytes int64        // the memory budget of each state cache
	rs         restartState // restarts after failures (restart.go)
}

// New plans a job: restores the savepoint into the backend (when given), builds every
// subtask and instance, and opens sources and sinks. Nothing runs until Run.
func New(cfg Config) (*Job, error) {
	j := &Job{
		cfg: cfg, p: cfg.Pipeline, prog: cfg.Program, id: cfg.JobID, backend: cfg.Backend,
		log: cfg.Log, maxPar: cfg.Pipeline.MaxParallelism, now: cfg.Now,
		done: make(chan struct{}), deadLetters: map[string]*connectors.DeadLetter{},
	}
	j.rs.interrupt = make(chan struct{})
	if j.now == nil {
		j.now = time.Now
		if cfg.Clock != nil {
			j.now = cfg.Clock.Now
		}
	}
	if j.log == nil {
		j.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if j.cfg.Memory.Total == 0 {
		j.cfg.Memory = SplitMemory(j.p.Memory, j.p.StateBackend)
	}
	j.cacheBytes = j.cfg.Memory.Cache / int64(max(countCaches(j.p), 1))
	j.cacheScale.Store(statebackend.ScaleOne)
	if j.prog == nil {
		prog, err := j.p.Compile()
		if err != nil {
			return nil, err
		}
		j.prog = prog
	}
	stdout := cfg.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	j.stdout = connectors.NewSharedWriter(stdout)
	j.coord = newCoordinator(j)
	if cfg.Restore != nil {
		sum, err := j.restore(cfg.Restore)
		if err != nil {
			j.startLoading()
			releaseChecks(j.takeChecks())
			return nil, err
		}
		j.restored = sum
	}
	err := j.plan()
	j.startLoading()
	if err != nil {
		releaseChecks(j.takeChecks())
		j.closeConnectors()
		return nil, err
	}
	return j, nil
}

// ID returns the job id.
func (j *Job) ID() string { return j.id }

// Restored describes what was restored (nil when the job started from empty state).
func (j *Job) Restored() *RestoreSummary { return j.restored }

// nowMs is the processing time in Unix milliseconds.
func (j *Job) nowMs() int64 { return j.now().UnixMilli() }

// runOnce runs one attempt of the job until its bounded sources are exhausted and all
// in-flight work is done, it is stopped (nil), canceled (ErrCanceled), or fails (the first
// error).
func (j *Job) runOnce(ctx context.Context) error {
	var wg sync.WaitGroup
	start := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				j.fail(err)
			}
		}()
	}
	tickDone := make(chan struct{})
	defer close(tickDone)
	go j.tick.run(tickDone)
	go j.watchHeap(tickDone)
	for _, st := range j.subtasks {
		start(st.run)
	}
	if checks, done := j.takeChecks(), j.done; len(checks) > 0 {
		start(func() error { return j.verifyRestored(checks, done) })
	}
	j.stateMu.Lock()
	j.sourcesStarted = j.now()
	j.rs.attemptStart = j.sourcesStarted
	j.stateMu.Unlock()
	if j.cfg.OnSourcesStarted != nil && j.rs.restarts == 0 { // restarts: written by this goroutine only
		j.cfg.OnSourcesStarted(j.sourcesStarted)
	}
	for _, s := range j.sources {
		start(s.run)
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	cpDone := make(chan struct{})
	if j.cfg.CheckpointInterval > 0 && j.cfg.CheckpointDir != "" {
		go func() {
			defer close(cpDone)
			j.checkpointLoop(j.cfg.CheckpointInterval, finished)
		}()
	} else {
		close(cpDone)
	}
	select {
	case <-finished:
	case <-ctx.Done():
		j.fail(ErrCanceled)
		<-finished
	}
	<-cpDone // a checkpoint in progress completes before the job ends
	if j.err == nil && !j.stopped.Load() && j.cfg.CheckpointInterval > 0 && j.cfg.CheckpointDir != "" && j.hasListeners() {
		if err := j.finalCheckpoint(); err != nil {
			j.fail(err)
		}
	}
	// A job stopped with a savepoint (stop, a pit stop) has its final savepoint already.
	if j.err == nil && j.cfg.FinalSavepointDir != "" && j.StopSavepoint() == "" {
		if err := j.finalSavepoint(); err != nil {
			j.fail(err)
		}
	}
	if errors.Is(j.err, ErrCanceled) {
		j.discardSinks()
	}
	j.async.close() // no snapshot reads the state once the attempt is over
	j.releaseBases()
	if err := j.closeConnectors(); err != nil {
		j.fail(err)
	}
	j.logSummary()
	j.failOnce.Do(func() { close(j.done) })
	return j.err
}

// finalSavepoint writes the savepoint of a job whose instances have all finished.
func (j *Job) finalSavepoint() error {
	b, err := j.coord.begin(barrierSavepoint, false, j.cfg.FinalSavepointDir)
	if err != nil {
		return err
	}
	defer j.coord.end(b)
	if err := b.waitEnded(); err != nil {
		return b.err
	}
	res, err := j.writeSnapshot(b, j.cfg.FinalSavepointDir, "final")
	if err != nil {
		return fmt.Errorf("final savepoint: %w", err)
	}
	j.final = res
	j.snapshotDone("final", res)
	return j.notifyComplete(b)
}

// FinalSavepoint is the savepoint written at the end of Run (nil when none was).
func (j *Job) FinalSavepoint() *SavepointResult { return j.final }

// StoppedBySignal reports whether Stop ended the job.
func (j *Job) StoppedBySignal() bool { return j.signaled.Load() }

// Logf writes an informational line to the job's log.
func (j *Job) Logf(format string, args ...any) { j.log.Info(fmt.Sprintf(format, args...)) }

// Status is a running job's state, for the control socket and /job.
type Status struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Records  []OperatorCount `json:"operators"`
	Skipped  int64           `json:"skipped"`
	Restored string          `json:"restored,omitempty"`
	// SourcesStarted is when the sources started reading (Unix ms; 0: not yet).
	SourcesStarted int64 `json:"sources_started_ms"`
	// LastCheckpointMs and LastSavepointMs are the durations of the latest checkpoint and
	// savepoint (0: none yet).
	LastCheckpointMs int64 `json:"last_checkpoint_ms"`
	LastSavepointMs  int64 `json:"last_savepoint_ms"`
	// Restarts is how often the job restarted after a failure (restart:).
	Restarts int64 `json:"restarts"`
}

// StateCount is the number of entries of one state.
type StateCount struct {
	UID     string `json:"uid"`
	State   string `json:"state"`
	Entries int64  `json:"entries"`
}

// StateEntries counts the keys present in every keyed state, as the state caches see them
// (written back to the backend or not), from the entries the job restored on.
func (j *Job) StateEntries() []StateCount {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	var out []StateCount
	for _, n := range j.p.Order {
		if !n.Keyed() {
			continue
		}
		for _, d := range n.States {
			out = append(out, StateCount{UID: n.UID, State: d.Name, Entries: j.live.counter(n.UID, d.Name).Load()})
		}
	}
	return out
}

// liveKeys holds a count of the keys present per keyed state (uid, state), which the state
// caches keep (statebackend.CacheOptions.Live).
type liveKeys struct {
	mu     sync.Mutex
	counts map[[2]string]*atomic.Int64
}

// counter returns the count of (uid, state).
func (l *liveKeys) counter(uid, state string) *atomic.Int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := [2]string{uid, state}
	c := l.counts[k]
	if c == nil {
		if l.counts == nil {
			l.counts = map[[2]string]*atomic.Int64{}
		}
		c = new(atomic.Int64)
		l.counts[k] = c
	}
	return c
}

// reset sets every count to zero: an attempt starts from empty state or from what it restores.
func (l *liveKeys) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.counts {
		c.Store(0)
	}
}

// OperatorCount is the record count of one uid (summed over subtasks) and its watermark.
type OperatorCount struct {
	UID string `json:"uid"`
	In  int64  `json:"records_in"`
	Out int64  `json:"records_out"`
	// WatermarkMs is the lowest event time reached by those of its subtasks that have one
	// (Unix ms; 0: none has event time yet).
	WatermarkMs int64 `json:"watermark_ms,omitempty"`
	// Backpressure is the fraction (0–1) of the time its busiest subtask spent waiting to
	// hand records downstream, measured between two Status calls at least a second apart
	// (sinks: 0).
	Backpressure float64 `json:"backpressure"`
	// States are its keyed states (keyed operators only).
	States []StateSize `json:"states,omitempty"`
	// ConnectorErrors counts the errors of an external system (a Kafka broker) its connector
	// retried; nil for connectors that do not retry any.
	ConnectorErrors *int64 `json:"connector_errors,omitempty"`
	// LateDropped counts the records a window without late_output dropped because they came
	// later than its allowed lateness; nil for other operators.
	LateDropped *int64 `json:"late_dropped,omitempty"`
}

// Status returns the job's status and counters.
func (j *Job) Status() Status {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	st := Status{ID: j.id, Name: j.p.Name, Skipped: j.skipped.Load(),
		LastCheckpointMs: j.lastCheckpointMs.Load(), LastSavepointMs: j.lastSavepointMs.Load(),
		Restarts: j.rs.restarts}
	if j.restored != nil {
		st.Restored = j.restored.Path
	}
	if t := j.SourcesStarted(); !t.IsZero() {
		st.SourcesStarted = t.UnixMilli()
	}
	pressure, sizes := j.backpressureByUID(), j.stateSizesByUID()
	for _, n := range j.p.Order {
		c := OperatorCount{UID: n.UID, Backpressure: pressure[n.UID], States: sizes[n.UID]}
		ins := j.instancesOf(n.UID)
		if n.Window != nil && n.LateOutput == "" {
			c.LateDropped = new(int64)
		}
		for _, in := range ins {
			c.In += in.recordsIn.Load()
			c.Out += in.recordsOut.Load()
			c.ConnectorErrors = addErrors(c.ConnectorErrors, in)
			if c.LateDropped != nil {
				*c.LateDropped += in.lateDropped.Load()
			}
		}
		c.WatermarkMs = lowestWatermark(ins)
		st.Records = append(st.Records, c)
	}
	return st
}

// lowestWatermark is the lowest watermark of the instances that have one (0: none has). A
// subtask without event time yet, such as an idle source subtask that owns no Kafka partition,
// holds nothing back, downstream or here.
func lowestWatermark(ins []*instance) int64 {
	var low int64
	for _, in := range ins {
		if wm := in.lastWatermark.Load(); wm != 0 && (low == 0 || wm < low) {
			low = wm
		}
	}
	return low
}

// instancesOf returns the instances of one uid.
func (j *Job) instancesOf(uid string) []*instance {
	var out []*instance
	for _, in := range j.instances {
		if in.node.UID == uid {
			out = append(out, in)
		}
	}
	return out
}

// fail records the job's first error and stops every subtask.
func (j *Job) fail(err error) {
	j.failOnce.Do(func() {
		j.err = err
		close(j.done)
	})
}

// Cancel stops the job at once, without a savepoint (and without a restart).
func (j *Job) Cancel() {
	j.rs.canceled.Store(true)
	j.stopRestarting()
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	j.fail(ErrCanceled)
}

// Stop stops the job cleanly: sources stop, records in flight are processed, sinks flush.
func (j *Job) Stop() {
	j.stopRestarting()
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	j.stop()
}

// stop is Stop for callers that hold attemptMu.
func (j *Job) stop() {
	j.signaled.Store(true)
	j.stopped.Store(true)
	for _, s := range j.sources {
		s.stopping.Store(true)
	}
}

// Done is closed when the job's current attempt has ended: the job has ended, unless its
// restart policy restarts it (Run then returns later).
func (j *Job) Done() <-chan struct{} {
	j.rs.attemptMu.RLock()
	defer j.rs.attemptMu.RUnlock()
	return j.done
}

// deliver sends a message to an inbox unless the job has failed.
func (j *Job) deliver(ib *inbox, m message) error {
	select {
	case ib.ch <- m:
		return nil
	case <-j.done:
		return ErrCanceled
	}
}

// countSkipped counts and logs a record skipped by on_error: skip.
func (j *Job) countSkipped(uid string, err error) {
	j.skipped.Add(1)
	j.drops.add(uid, false)
	j.log.Warn("record skipped", "uid", uid, "error", err.Error())
}

// writeDeadLetter writes a failed record to the dead-letter file of uid (kafka: where a
// Kafka source read it, else nil), and logs it with where (which record, or its position in
// the input).
func (j *Job) writeDeadLetter(uid, msg string, record any, file string, line int64, kafka *connectors.KafkaPosition, where string) error {
	j.deadMu.Lock()
	defer j.deadMu.Unlock()
	d := j.deadLetters[uid]
	if d == nil {
		n := j.p.Nodes[uid]
		var err error
		if d, err = connectors.OpenDeadLetter(n.DeadLetter); err != nil {
			return fmt.Errorf("%q: dead letter: %w", uid, err)
		}
		j.deadLetters[uid] = d
	}
	j.drops.add(uid, true)
	j.log.Warn("record dead-lettered", "uid", uid, "error", msg, "at", where, "dead_letter", j.p.Nodes[uid].DeadLetter)
	return d.WriteAt(uid, msg, record, file, line, kafka)
}

// sourceStoppedForBarrier notes when the first source stopped for a stop barrier: the start
// of a pit stop's downtime.
func (j *Job) sourceStoppedForBarrier(b *barrier) {
	t := j.now()
	b.mu.Lock()
	if b.sourcesStopped.IsZero() || t.Before(b.sourcesStopped) {
		b.sourcesStopped = t
	}
	b.mu.Unlock()
}

// SourcesStarted is when the job's sources started reading.
func (j *Job) SourcesStarted() time.Time {
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	return j.sourcesStarted
}

// closeConnectors closes sinks, sources' files and dead-letter files.
func (j *Job) closeConnectors() error {
	var first error
	for _, in := range j.instances {
		if in.sink != nil {
			if err := in.sink.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	for _, s := range j.sources {
		if c, ok := s.src.(io.Closer); ok {
			c.Close()
		}
	}
	j.deadMu.Lock()
	for _, d := range j.deadLetters {
		if err := d.Close(); err != nil && first == nil {
			first = err
		}
	}
	j.deadLetters = map[string]*connectors.DeadLetter{}
	j.deadMu.Unlock()
	if err := j.stdout.Flush(); err != nil && first == nil {
		first = err
	}
	return first
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// named prefixes err with the item it happened in (`sink "out": …`), unless its message
// already starts by naming one: the innermost name is the item that failed. A source's Run
// returns the errors of the operators and sinks chained behind it, and a connector names
// itself, so an error is named once, by the item it belongs to.
func named(role pipeline.Role, uid string, err error) error {
	msg := err.Error()
	for _, r := range []pipeline.Role{pipeline.RoleSource, pipeline.RoleOperator, pipeline.RoleSink} {
		if strings.HasPrefix(msg, r.String()+` "`) {
			return err
		}
	}
	return fmt.Errorf("%s %q: %w", role, uid, err)
}

// msDuration converts milliseconds to a duration.
func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
