package cli

import (
	"syscall"
	"testing"
	"time"
)

// TestHandOverReport: the hand-over's line counts the restore from the later of the database
// opened and the savepoint verified (they run side by side).
func TestHandOverReport(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name     string
		verified int
		want     string
	}{
		{"verified before the database opened", 20,
			"savepoint verified in 20 ms, state directory taken 5 ms after the savepoint arrived, database opened in 40 ms, restored and planned in 255 ms, sources started 3 ms later (until planned: 250 ms of CPU, 700 page faults)"},
		{"verified after the database opened", 100,
			"savepoint verified in 100 ms, state directory taken 5 ms after the savepoint arrived, database opened in 40 ms, restored and planned in 200 ms, sources started 3 ms later (until planned: 250 ms of CPU, 700 page faults)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := handOverTimes{received: at(0), verified: at(tt.verified), claimed: at(5), opened: at(45), planned: at(300)}
			h.usageReceived = syscall.Rusage{Utime: syscall.Timeval{Sec: 1}, Minflt: 100}
			h.usagePlanned = syscall.Rusage{Utime: syscall.Timeval{Sec: 1, Usec: 200_000}, Stime: syscall.Timeval{Usec: 50_000}, Minflt: 800}
			if got := h.report(at(303)); got != tt.want {
				t.Errorf("report:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
