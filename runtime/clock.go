package runtime

import (
	"sync"
	"time"
)

// Clock is the job's processing time: what processing-time windows and timers, idle sources
// and state TTLs read. The default is the wall clock; tests inject a manual one so that
// processing-time behaviour needs no sleeping.
type Clock interface {
	// Now returns the current processing time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed on this clock; stop cancels
	// the call and reports whether it did (false: f has run or is running).
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// wallClock is the real clock, read through the job's Now.
type wallClock struct{ now func() time.Time }

func (c wallClock) Now() time.Time { return c.now() }

func (wallClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// clock returns the job's clock: Config.Clock, else the wall clock read through Config.Now.
func (j *Job) clock() Clock {
	if j.cfg.Clock != nil {
		return j.cfg.Clock
	}
	return wallClock{now: j.now}
}

// clockMs is the processing time of the job's clock in Unix milliseconds.
func (j *Job) clockMs() int64 { return j.clock().Now().UnixMilli() }

// wakeup wakes one subtask's loop when its earliest processing-time timer falls due. It keeps
// at most one pending clock callback, armed for the earliest time asked for.
type wakeup struct {
	clock Clock
	ch    chan struct{} // buffered 1: a wake-up never blocks the clock

	mu   sync.Mutex
	at   int64 // time the armed callback is for (valid when stop != nil)
	gen  int64 // generation of the armed callback
	stop func() bool
}

func newWakeup(c Clock) *wakeup {
	return &wakeup{clock: c, ch: make(chan struct{}, 1)}
}

// C is the channel the subtask loop selects on (nil for a nil wakeup: never ready).
func (w *wakeup) C() <-chan struct{} {
	if w == nil {
		return nil
	}
	return w.ch
}

// schedule arranges a wake-up at processing time at (Unix ms) or earlier.
func (w *wakeup) schedule(at int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil && w.at <= at {
		return
	}
	if w.stop != nil {
		w.stop()
	}
	w.gen++
	gen := w.gen
	w.at = at
	d := msDuration(at - w.clock.Now().UnixMilli())
	if d < 0 {
		d = 0
	}
	w.stop = w.clock.AfterFunc(d, func() {
		w.mu.Lock()
		if w.gen == gen {
			w.stop = nil
		}
		w.mu.Unlock()
		select {
		case w.ch <- struct{}{}:
		default:
		}
	})
}

// processingTimeHandler is implemented by operators with processing-time timers.
type processingTimeHandler interface {
	// onProcessingTime fires the timers due at now (Unix ms) and schedules the next wake-up.
	onProcessingTime(in *instance, now int64) error
}

// onWake fires the due processing-time timers of every instance of the subtask.
func (st *subtask) onWake() error {
	now := st.job.clockMs()
	for _, in := range st.instances {
		if h, ok := in.op.(processingTimeHandler); ok {
			if err := h.onProcessingTime(in, now); err != nil {
				return err
			}
		}
	}
	return nil
}
