// Package manualclock is a processing-time clock (runtime.Clock) that moves only when told
// to: `pipectl test` runs a pipeline on it (its `now:` and `advance:` steps), and the
// runtime's tests use it so that processing-time windows, timers and restart delays need no
// sleeping.
package manualclock

import (
	"sync"
	"time"
)

// Clock is a manual clock. Its zero value is not usable: make one with New.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at      time.Time
	f       func()
	stopped bool
}

// New returns a clock that reads start until it is moved.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc calls f once the clock has moved on by d. A callback already due runs in its own
// goroutine at once; the others run when Set or Advance reaches them. stop cancels the call
// and reports whether it did.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	tm := &timer{at: c.now.Add(d), f: f}
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

// Advance moves the clock on by d and runs the callbacks that fell due (see Set).
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never back) and runs the callbacks that fell due, in the
// caller's goroutine, before it returns: a caller that then waits for what they trigger
// knows they have been called. (The runtime's callbacks only signal a goroutine, so running
// them here, not each in a goroutine of its own as time.AfterFunc does, blocks nothing.)
func (c *Clock) Set(t time.Time) {
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

// NextDue returns the earliest time a pending callback falls due that is not after limit.
func (c *Clock) NextDue(limit time.Time) (time.Time, bool) {
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

// Pending lists how long each pending callback has yet to wait.
func (c *Clock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, tm := range c.timers {
		if !tm.stopped {
			out = append(out, tm.at.Sub(c.now))
		}
	}
	return out
}
