package runtime

import (
	"sync/atomic"
	"time"
)

// bufferTimeout is how long a partly filled batch (or a sink's buffer) may wait while
// records flow (docs/pipelines.md). An idle subtask flushes at once.
const bufferTimeout = 100 * time.Millisecond

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

// flushDeadline tells a subtask when its buffers are due.
type flushDeadline struct {
	t    *ticker
	last int64
}

// due reports whether buffers have waited bufferTimeout since the last flush.
func (d *flushDeadline) due() bool {
	return d.t.ms.Load()-d.last >= bufferTimeout.Milliseconds()
}

// flushed notes a flush.
func (d *flushDeadline) flushed() { d.last = d.t.ms.Load() }
