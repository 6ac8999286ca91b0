package runtime

import (
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
func SplitMemory(total int64, backend string) MemoryBudget {
	if total <= 0 {
		total = pipeline.DefaultMemory
	}
	b := MemoryBudget{Total: total, Buffers: total / 8, Scripts: total / 8}
	if backend == statebackend.KindMemory {
		b.Backend, b.Cache, b.GoLimit = total*3/8, total/8, total*7/8
	} else {
		b.Backend, b.Cache, b.GoLimit = total/4, total*3/16, total*3/4
	}
	return b
}

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
