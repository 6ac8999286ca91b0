package manualclock

import (
	"slices"
	"sync"
	"testing"
	"time"
)

var start = time.UnixMilli(1_700_000_000_000)

// TestClock schedules callbacks, moves the clock by steps and checks which callbacks have run
// after each step, what is still pending and when the next one falls due.
func TestClock(t *testing.T) {
	tests := []struct {
		name    string
		delays  []time.Duration // one callback each, named by its index
		stop    []int           // callbacks cancelled before the clock moves
		steps   []time.Duration // Advance steps (negative: Set that far back)
		ran     []int           // callbacks run after the last step, in order
		pending []time.Duration
		stopOK  bool // what stop reports for the callbacks in stop
	}{
		{name: "nothing due", delays: []time.Duration{time.Second}, steps: []time.Duration{999 * time.Millisecond},
			pending: []time.Duration{time.Millisecond}},
		{name: "due on the dot", delays: []time.Duration{time.Second}, steps: []time.Duration{time.Second}, ran: []int{0}},
		{name: "in order of scheduling when due together", delays: []time.Duration{2 * time.Second, time.Second, 5 * time.Second},
			steps: []time.Duration{time.Second, 2 * time.Second}, ran: []int{1, 0}, pending: []time.Duration{2 * time.Second}},
		{name: "stopped never runs", delays: []time.Duration{time.Second, time.Second}, stop: []int{0}, stopOK: true,
			steps: []time.Duration{time.Minute}, ran: []int{1}},
		{name: "never back", delays: []time.Duration{time.Second}, steps: []time.Duration{-time.Hour},
			pending: []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(start)
			var ran []int
			stops := make([]func() bool, len(tt.delays))
			for i, d := range tt.delays {
				stops[i] = c.AfterFunc(d, func() { ran = append(ran, i) })
			}
			for _, i := range tt.stop {
				if got := stops[i](); got != tt.stopOK {
					t.Errorf("stop %d reported %v, want %v", i, got, tt.stopOK)
				}
			}
			for _, d := range tt.steps {
				if d < 0 {
					c.Set(c.Now().Add(d))
				} else {
					c.Advance(d)
				}
			}
			if !slices.Equal(ran, tt.ran) {
				t.Errorf("ran %v, want %v", ran, tt.ran)
			}
			if got := c.Pending(); !slices.Equal(got, tt.pending) {
				t.Errorf("pending %v, want %v", got, tt.pending)
			}
			next, ok := c.NextDue(c.Now().Add(time.Hour))
			if ok != (len(tt.pending) > 0) || ok && next.Sub(c.Now()) != slices.Min(tt.pending) {
				t.Errorf("next due %v (%v), want in %v", next, ok, tt.pending)
			}
		})
	}
}

// TestAlreadyDue runs a callback scheduled with no wait at once, without moving the clock;
// stopping it afterwards reports that it had run.
func TestAlreadyDue(t *testing.T) {
	c := New(start)
	var wg sync.WaitGroup
	wg.Add(1)
	stop := c.AfterFunc(0, wg.Done)
	wg.Wait()
	if stop() {
		t.Error("stop after the callback ran reported that it cancelled it")
	}
	if !c.Now().Equal(start) || len(c.Pending()) != 0 {
		t.Errorf("now %v, pending %v: want %v and none", c.Now(), c.Pending(), start)
	}
}
