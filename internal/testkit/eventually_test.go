package testkit

import (
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	calls := 0
	if !Poll(time.Second, func() bool { calls++; return calls == 3 }) {
		t.Fatal("Poll gave up on a condition that holds at the third check")
	}
	if calls != 3 {
		t.Errorf("checked %d times, want 3", calls)
	}
	start := time.Now()
	if Poll(30*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never holds")
	}
	if waited := time.Since(start); waited < 30*time.Millisecond {
		t.Errorf("gave up after %v, before its 30ms deadline", waited)
	}
}
