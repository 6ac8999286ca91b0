// Package heap reads what the process's memory budget is measured against: the Go runtime's
// soft memory limit and the heap that was live after the last garbage collection.
package heap

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// Limit returns the Go runtime's soft memory limit (the job's budget or GOMEMLIMIT); ok is
// false when none is set.
func Limit() (limit int64, ok bool) {
	limit = debug.SetMemoryLimit(-1) // -1 reads the limit
	return limit, limit > 0 && limit != math.MaxInt64
}

// Live returns the bytes of heap live after the last garbage collection.
func Live() (int64, bool) {
	sample := [1]metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample[:])
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return int64(sample[0].Value.Uint64()), true
}
