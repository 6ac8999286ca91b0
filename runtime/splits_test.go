package runtime

import "testing"

// A split declared before its first record holds the watermark back until it delivers one or
// turns idle; the watermark follows the lowest split that is not idle.
func TestSplitsLow(t *testing.T) {
	now := int64(0)
	newTask := func(idle int64) *sourceTask {
		return &sourceTask{time: &sourceTime{idleTimeout: idle, clock: func() int64 { return now }}}
	}
	seen := func(s *sourceTask, split string, ts int64) {
		sp := s.time.splits[split]
		if sp == nil {
			sp = &splitTime{maxTs: ts}
			s.time.splits[split] = sp
		}
		sp.maxTs, sp.lastSeen = max(sp.maxTs, ts), now
	}

	s := newTask(0)
	s.AddSplits("t/0", "t/1", "t/2", "t/3")
	if low := s.time.splitsLow(); low != noTimestamp {
		t.Fatalf("no split has delivered: low = %d, want none", low)
	}
	seen(s, "t/0", 70000)
	seen(s, "t/1", 1000)
	if low := s.time.splitsLow(); low != noTimestamp {
		t.Fatalf("t/2 and t/3 have delivered nothing: low = %d, want none (their records would be late)", low)
	}
	seen(s, "t/2", 5000)
	seen(s, "t/3", 3000)
	if low := s.time.splitsLow(); low != 1000 {
		t.Fatalf("every split has delivered: low = %d, want 1000", low)
	}
	s.AddSplits("t/1") // declaring a known split again changes nothing
	if low := s.time.splitsLow(); low != 1000 {
		t.Fatalf("after a second AddSplits of t/1: low = %d, want 1000", low)
	}

	idle := newTask(10_000)
	idle.AddSplits("t/0", "t/1")
	seen(idle, "t/0", 70000)
	if low := idle.time.splitsLow(); low != noTimestamp {
		t.Fatalf("t/1 silent for less than idle_timeout: low = %d, want none", low)
	}
	now = 10_000
	seen(idle, "t/0", 71000)
	if low := idle.time.splitsLow(); low != 71000 {
		t.Fatalf("t/1 silent for idle_timeout is idle: low = %d, want 71000", low)
	}
}
