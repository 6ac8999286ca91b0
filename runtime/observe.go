package runtime

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/savepoints"
)

// What a job tells about itself beyond record counts: how much of the time each operator's
// output waited on a full channel (backpressure), the size of each state as of the last
// snapshot, and every snapshot it completed (for the job's history).

// pressureInterval is the shortest interval over which backpressure is measured: Status
// callers that come more often get the last measurement again.
const pressureInterval = time.Second

// blockTimer accumulates the time one subtask's goroutine spent blocked sending a batch to
// a full inbox. Every instance chained in that goroutine shares it: when the tail's output
// blocks, the whole chain waits.
type blockTimer struct {
	total atomic.Int64 // nanoseconds of finished waits
	since atomic.Int64 // start of the wait in progress (Unix ns; 0: none)
}

// blockedUntil is the blocked time up to now (Unix ns), the wait in progress included.
func (b *blockTimer) blockedUntil(now int64) int64 {
	t := b.total.Load()
	if s := b.since.Load(); s != 0 && s < now {
		t += now - s
	}
	return t
}

// timedDeliver sends m to ib like Job.deliver, counting the time it waits on a full inbox.
// The common case, room in the inbox, costs no clock read.
func timedDeliver(j *Job, bt *blockTimer, ib *inbox, m message) error {
	select {
	case ib.ch <- m:
		return nil
	default:
	}
	start := time.Now().UnixNano()
	bt.since.Store(start)
	err := j.deliver(ib, m)
	bt.total.Add(time.Now().UnixNano() - start)
	bt.since.Store(0)
	return err
}

// pressureSampler turns the block timers' totals into the fraction of the last interval
// each goroutine spent blocked.
type pressureSampler struct {
	mu    sync.Mutex
	at    int64 // Unix ns of the last measurement (0: none yet)
	prev  map[*blockTimer]int64
	ratio map[*blockTimer]float64
}

// sample returns the blocked fraction (0–1) of each timer over the last interval of at
// least pressureInterval; before the first interval has passed every fraction is 0.
func (p *pressureSampler) sample(timers []*blockTimer) map[*blockTimer]float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UnixNano()
	if p.at != 0 && now-p.at < int64(pressureInterval) {
		return p.ratio
	}
	next := make(map[*blockTimer]int64, len(timers))
	ratio := make(map[*blockTimer]float64, len(timers))
	for _, bt := range timers {
		v := bt.blockedUntil(now)
		next[bt] = v
		if p.at != 0 {
			ratio[bt] = min(1, max(0, float64(v-p.prev[bt])/float64(now-p.at)))
		}
	}
	p.at, p.prev, p.ratio = now, next, ratio
	return ratio
}

// StateSize is one state of an operator in the job's status.
type StateSize struct {
	Name string `json:"name"`
	// Entries counts the live state's keys.
	Entries int64 `json:"entries"`
	// Bytes is the state's encoded size in the latest checkpoint or savepoint (0: none yet).
	Bytes int64 `json:"bytes"`
}

// stateSizes remembers the state sizes of the latest snapshot.
type stateSizes struct {
	mu    sync.Mutex
	bytes map[[2]string]int64 // (uid, state) → bytes in the latest snapshot
}

// noteSnapshot records the state sizes a committed snapshot wrote.
func (j *Job) noteSnapshot(meta *savepoints.Metadata) {
	sizes := map[[2]string]int64{}
	for _, o := range meta.Operators {
		for _, s := range o.States {
			sizes[[2]string{o.UID, s.Name}] = s.Bytes
		}
	}
	j.sizes.mu.Lock()
	j.sizes.bytes = sizes
	j.sizes.mu.Unlock()
}

// stateSizesByUID returns each keyed operator's states with their live entries and their
// bytes in the latest snapshot.
func (j *Job) stateSizesByUID() map[string][]StateSize {
	j.sizes.mu.Lock()
	defer j.sizes.mu.Unlock()
	out := map[string][]StateSize{}
	for _, n := range j.p.Order {
		if !n.Keyed() {
			continue
		}
		for _, d := range n.States {
			k := [2]string{n.UID, d.Name}
			out[n.UID] = append(out[n.UID], StateSize{Name: d.Name, Entries: j.live.counter(n.UID, d.Name).Load(), Bytes: j.sizes.bytes[k]})
		}
	}
	return out
}

// backpressureByUID returns, per uid, the largest blocked fraction among its subtasks.
func (j *Job) backpressureByUID() map[string]float64 {
	var timers []*blockTimer
	seen := map[*blockTimer]bool{}
	for _, n := range j.p.Order {
		for _, in := range j.instancesOf(n.UID) {
			if in.blocked != nil && !seen[in.blocked] {
				seen[in.blocked] = true
				timers = append(timers, in.blocked)
			}
		}
	}
	ratio := j.pressure.sample(timers)
	out := map[string]float64{}
	for _, n := range j.p.Order {
		for _, in := range j.instancesOf(n.UID) {
			if in.blocked != nil {
				out[n.UID] = max(out[n.UID], ratio[in.blocked])
			}
		}
	}
	return out
}

// SnapshotInfo describes a completed checkpoint or savepoint.
type SnapshotInfo struct {
	// Trigger is "checkpoint" for a checkpoint, else the savepoint's trigger ("manual",
	// "stop", "final").
	Trigger    string
	Path       string
	Time       time.Time
	Bytes      int64
	DurationMs int64
}

// Checkpoint reports whether the snapshot is a checkpoint (else a savepoint).
func (s SnapshotInfo) Checkpoint() bool { return s.Trigger == "checkpoint" }

// OnSnapshot makes the job call fn after every snapshot it completes (from the goroutine
// that took it). Set it before Run; nil removes it.
func (j *Job) OnSnapshot(fn func(SnapshotInfo)) {
	if fn == nil {
		j.onSnapshot.Store(nil)
		return
	}
	j.onSnapshot.Store(&fn)
}

// snapshotDone tells the OnSnapshot hook about a completed snapshot.
func (j *Job) snapshotDone(trigger string, res *SavepointResult) {
	if fn := j.onSnapshot.Load(); fn != nil {
		(*fn)(SnapshotInfo{Trigger: trigger, Path: res.Path, Time: j.now(), Bytes: res.Bytes, DurationMs: res.Duration})
	}
}
