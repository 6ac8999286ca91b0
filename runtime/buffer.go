package runtime

import (
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/pipeline"
)

// tickPeriod is the resolution of the coarse clock that flush deadlines read: reading an
// atomic per batch is far cheaper than reading the clock.
const tickPeriod = 10 * time.Millisecond

// ticker is a coarse monotonic clock in milliseconds, advanced by one goroutine while the
// job runs.
type ticker struct {
	ms atomic.Int64
}

// run advances the ticker until done is closed.
func (t *ticker) run(done <-chan struct{}) {
	start := time.Now()
	tk := time.NewTicker(tickPeriod)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case now := <-tk.C:
			t.ms.Store(now.Sub(start).Milliseconds())
		}
	}
}

// flushDeadline tells a subtask when its buffers are due: a partly filled batch or a sink's
// buffer waits at most the pipeline's buffer_timeout while records flow, or a sink's own
// when one of the subtask's sinks sets it shorter (docs/pipelines.md). An idle subtask
// flushes at once.
type flushDeadline struct {
	t     *ticker
	every int64 // ms
	last  int64
}

// flushDeadline returns the flush deadline of a subtask of group g.
func (j *Job) flushDeadline(g *group) flushDeadline {
	every := j.p.BufferTimeout
	for _, n := range g.nodes {
		if n.BufferTimeout > 0 && (every <= 0 || n.BufferTimeout < every) {
			every = n.BufferTimeout
		}
	}
	if every <= 0 {
		every = pipeline.DefaultBufferTimeout
	}
	return flushDeadline{t: &j.tick, every: every.Milliseconds()}
}

// due reports whether buffers have waited their timeout since the last flush.
func (d *flushDeadline) due() bool {
	return d.t.ms.Load()-d.last >= d.every
}

// flushed notes a flush.
func (d *flushDeadline) flushed() { d.last = d.t.ms.Load() }
