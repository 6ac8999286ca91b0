package cli

import (
	"os"
	"runtime"
)

// maxWarmHeap bounds the heap a pit stop's new job warms, whatever its memory budget.
const maxWarmHeap = 512 << 20

// pageSize is the size of a memory page: the unit the kernel faults in.
var pageSize = os.Getpagesize()

// warmHeap faults in n bytes of Go heap, one write per page, and returns the function that
// lets them go (with a garbage collection, so that their pages are free at once). A pit
// stop's new job warms its heap while it waits for the savepoint and lets it go as the
// savepoint arrives: the restore then allocates from pages already mapped instead of faulting
// in fresh ones, which in a fresh process costs a third of the restore's CPU
// (docs/PERFORMANCE.md, the pit stop).
func warmHeap(n int64) (release func()) {
	buf := make([]byte, n)
	for i := 0; i < len(buf); i += pageSize {
		buf[i] = 1
	}
	return func() {
		buf = nil
		runtime.GC()
	}
}
