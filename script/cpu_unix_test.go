//go:build unix

package script

import (
	"syscall"
	"testing"
	"time"
)

// cpuMeter reports a benchmark's CPU time per operation (user and system, all threads, the
// garbage collector's too): steadier than ns/op on a loaded machine. Start it just before the
// loop; the returned function reports after it, given the number of operations.
func cpuMeter(b *testing.B) func(ops int) {
	start := cpuTime(b)
	return func(ops int) {
		if ops > 0 {
			b.ReportMetric(float64(cpuTime(b)-start)/float64(ops), "cpu-ns/op")
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
