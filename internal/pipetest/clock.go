package pipetest

import (
	"sync"
	"time"
)

// fakeClock is a test's processing time (runtime.Clock): it starts at the test's `now:` and
// moves only with `advance:` steps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

// Now implements runtime.Clock.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements runtime.Clock. A callback already due runs in its own goroutine at
// once; the others run when Advance reaches them.
func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	tm := &fakeTimer{at: c.now.Add(d), f: f}
	if d <= 0 {
		tm.stopped = true
		go f()
	} else {
		c.timers = append(c.timers, tm)
	}
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !tm.stopped
		tm.stopped = true
		return was
	}
}

// Advance moves the clock on by d and runs the callbacks that fell due (each only signals a
// subtask, which fires its timers before the runner's next barrier passes it).
func (c *fakeClock) Advance(d time.Duration) {
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
		f()
	}
}
