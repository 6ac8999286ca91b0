package runtime

import (
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// parseTest parses a pipeline written for a test, in dir (relative paths resolve there).
func parseTest(t testing.TB, dir, src string) *pipeline.Pipeline {
	t.Helper()
	p, err := pipeline.Parse(dir+"/pipeline.yaml", []byte(src), pipeline.LoadOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// startRun plans src as dir/pipeline.yaml with a memory backend and starts it; relative
// paths of its sources and sinks resolve in dir.
func startRun(t *testing.T, dir, src string, s jobSpec) *harnessJob {
	t.Helper()
	h := &harness{t: t, dir: dir, backend: statebackend.KindMemory}
	return h.mustJob(src, s).start()
}

// runLines runs a bounded pipeline to its end and returns its sorted output lines.
func runLines(t *testing.T, src string) []string {
	t.Helper()
	return startRun(t, t.TempDir(), src, jobSpec{}).sortedOutput()
}

// manualClock is a Clock that moves only when the test advances it.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newManualClock(start time.Time) *manualClock { return &manualClock{now: start} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	tm := &manualTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	c.mu.Unlock()
	if d <= 0 {
		go c.Advance(0)
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// Advance moves the clock on by d and runs the callbacks that fell due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	kept := c.timers[:0]
	for _, tm := range c.timers {
		switch {
		case tm.stopped:
		case !tm.at.After(c.now):
			tm.stopped = true
			due = append(due, tm.f)
		default:
			kept = append(kept, tm)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	for _, f := range due {
		go f() // like time.AfterFunc: in its own goroutine
	}
}

// openSavepoint opens a savepoint for a restore.
func openSavepoint(t *testing.T, path string) *savepoints.Savepoint {
	t.Helper()
	sp, err := savepoints.Open(path)
	if err != nil {
		t.Fatalf("open savepoint %s: %v", path, err)
	}
	return sp
}
