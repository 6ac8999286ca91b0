package pipetest

import (
	"sync"
	"time"
)

// fakeClock is a test's processing time (runtime.Clock): it starts at the test's `now:` and
// moves only with `advance:` steps (see advance in run.go).
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

// nextDue returns the earliest pending callback time that is not after limit.
func (c *fakeClock) nextDue(limit time.Time) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next time.Time
	found := false
	for _, tm := range c.timers {
		if !tm.stopped && !tm.at.After(limit) && (!found || tm.at.Before(next)) {
			next, found = tm.at, true
		}
	}
	return next, found
}

// set moves the clock to t (never back) and runs the callbacks that fell due. Each only
// signals a subtask, which fires its timers before the runner's next barrier passes it.
func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
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
