package testkit

import (
	"testing"
	"time"
)

// maxPollInterval bounds the back-off between two checks of a condition.
const maxPollInterval = 20 * time.Millisecond

// Poll checks cond until it holds or timeout passes, and reports whether it held. The first
// re-checks come after a millisecond, then ever further apart up to maxPollInterval, so a
// quick condition is seen quickly and a slow one costs little. The waits between checks are
// the polling interval, never the synchronisation: the deadline decides.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	interval := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-time.After(interval)
		interval = min(2*interval, maxPollInterval)
	}
	return true
}

// Eventually fails the test unless cond holds within timeout; what names the awaited
// condition in the failure ("the job to stop").
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
