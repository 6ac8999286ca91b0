package heap

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// Limit reports the soft limit only when one is set; Live follows the heap a collection finds.
func TestLimitAndLive(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.SetMemoryLimit(512 << 20)
	if l, ok := Limit(); !ok || l != 512<<20 {
		t.Errorf("Limit() = %d, %v; want 512 MiB", l, ok)
	}
	debug.SetMemoryLimit(1<<63 - 1)
	if _, ok := Limit(); ok {
		t.Error("no limit (MaxInt64) counts as set")
	}
	keep := make([]byte, 64<<20)
	runtime.GC()
	live, ok := Live()
	if !ok || live < 64<<20 {
		t.Errorf("Live() = %d, %v with 64 MiB held", live, ok)
	}
	runtime.KeepAlive(keep)
}
