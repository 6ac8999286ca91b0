package runtime

import (
	"time"

	"github.com/pipectl/pipectl/internal/heap"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/statebackend"
)

// MemoryBudget is the division of a job's memory budget (`memory:` or run --memory) between
// the parts of the process that hold memory. The backend's and the caches' shares are
// enforced (badger is sized from its share, the memory backend fails past it, each cache
// evicts to stay within its part of Cache); Buffers and Scripts are what the in-flight
// records and the JS runtimes are expected to take, and the rest is headroom for the garbage
// collector, the binary and Badger's memory-mapped files. GoLimit is the Go runtime's soft
// memory limit.
type MemoryBudget struct {
	Total   int64
	Backend int64
	Cache   int64
	Buffers int64
	Scripts int64
	GoLimit int64
}

// SplitMemory divides total bytes for a job on the given state backend (docs/memory.md
// explains the shares). badger: a quarter for Badger, 3/16 for the state caches, an eighth
// each for buffers and JS runtimes, and a Go soft limit of three quarters, which leaves a
// quarter for the binary and Badger's mapped files and keeps the expected live heap well
// below the limit (a heap close to it makes the collector run nearly all the time). memory:
// the state itself takes three eighths and its caches an eighth, with a Go soft limit of
// seven eighths (no mapped files).
//
// Whatever the budget, the binary's own resident pages and the runtime need binaryReserve
// beside the Go heap: a small budget (64MiB) lowers the soft limit to leave it, and every
// share shrinks in proportion.
func SplitMemory(total int64, backend string) MemoryBudget {
	if total <= 0 {
		total = pipeline.DefaultMemory
	}
	type fraction struct{ num, den int64 }
	limit, backendShare, cache := fraction{3, 4}, fraction{1, 4}, fraction{3, 16}
	if backend == statebackend.KindMemory {
		limit, backendShare, cache = fraction{7, 8}, fraction{3, 8}, fraction{1, 8}
	}
	nominal := total * limit.num / limit.den
	goLimit := min(nominal, total-binaryReserve)
	share := func(f fraction) int64 { return total * f.num / f.den * goLimit / nominal }
	return MemoryBudget{Total: total, Backend: share(backendShare), Cache: share(cache),
		Buffers: share(fraction{1, 8}), Scripts: share(fraction{1, 8}), GoLimit: goLimit}
}

// binaryReserve is the resident memory a pipectl process needs beside its Go heap whatever
// its budget: the pages of the binary it touches (about 22 MiB of code and read-only data: the
// JS engine, Badger, the Kafka and PostgreSQL clients) and the runtime's own.
const binaryReserve = 24 << 20

// countCaches returns the number of state caches the job's instances open: one per state of
// each subtask of a keyed (or window_all) node.
func countCaches(p *pipeline.Pipeline) int {
	n := 0
	for _, node := range p.Order {
		if node.Keyed() || node.OpKind() == pipeline.OpWindowAll {
			n += node.Parallelism * len(node.States)
		}
	}
	return n
}

// heapWatchEvery is how often the job compares its live heap with the memory it expects.
const heapWatchEvery = 100 * time.Millisecond

// watchHeap keeps the live heap within the budget while the job runs (until done closes).
// The state caches size themselves from estimated entry sizes, which can be far off (a
// decoded record costs what its map and strings cost, in size classes). So every
// heapWatchEvery it looks at the heap live after the last collection: above 7/8 of the Go
// soft limit, every state cache gives up an eighth of its entries (CacheOptions.Scale, down
// to 1/64 of what its share allows); below 3/4, they grow back by a sixteenth. Without a
// soft limit (none set), it does nothing.
func (j *Job) watchHeap(done <-chan struct{}) {
	limit, set := heap.Limit()
	if !set {
		return
	}
	tk := time.NewTicker(heapWatchEvery)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
		}
		live, ok := heap.Live()
		if !ok {
			return
		}
		j.cacheScale.Store(nextCacheScale(j.cacheScale.Load(), live, limit))
	}
}

// nextCacheScale is the caches' scale after one look at a live heap of live bytes under a
// soft limit of limit bytes.
func nextCacheScale(scale, live, limit int64) int64 {
	switch {
	case live > limit-limit/8:
		return max(scale-scale/8, statebackend.ScaleOne/64)
	case live < limit-limit/4:
		return min(scale+max(scale/16, 1), statebackend.ScaleOne)
	}
	return scale
}
