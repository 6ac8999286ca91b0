package runtime

import (
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// The state caches shrink by an eighth per look while the live heap is above 7/8 of the soft
// limit, down to 1/64, and grow back by a sixteenth below 3/4.
func TestNextCacheScale(t *testing.T) {
	const one, limit = statebackend.ScaleOne, int64(64 << 20)
	for _, c := range []struct {
		name        string
		scale, live int64
		want        int64
	}{
		{"over: shrink", one, limit, one - one/8},
		{"just over 7/8: shrink", 512, limit - limit/8 + 1, 448},
		{"between: keep", 512, limit - limit/5, 512},
		{"under 3/4: grow", 512, limit / 2, 544},
		{"grows back to one at most", one - 10, limit / 2, one},
		{"shrinks to 1/64 at least", one / 64, 2 * limit, one / 64},
		{"grows from the floor", 1, 0, 2},
	} {
		if got := nextCacheScale(c.scale, c.live, limit); got != c.want {
			t.Errorf("%s: nextCacheScale(%d, %d) = %d, want %d", c.name, c.scale, c.live, got, c.want)
		}
	}
}

// TestSplitMemory: the shares of a budget, and the reserve for the binary that small budgets
// keep beside the Go heap.
func TestSplitMemory(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		total   int64
		backend string
		want    MemoryBudget
	}{
		{256 * mib, statebackend.KindBadger, MemoryBudget{Total: 256 * mib, Backend: 64 * mib, Cache: 48 * mib, Buffers: 32 * mib, Scripts: 32 * mib, GoLimit: 192 * mib}},
		{512 * mib, statebackend.KindMemory, MemoryBudget{Total: 512 * mib, Backend: 192 * mib, Cache: 64 * mib, Buffers: 64 * mib, Scripts: 64 * mib, GoLimit: 448 * mib}},
		// 64MiB: the soft limit leaves binaryReserve, and the shares shrink with it.
		{64 * mib, statebackend.KindBadger, MemoryBudget{Total: 64 * mib, Backend: 16 * mib * 40 / 48, Cache: 12 * mib * 40 / 48, Buffers: 8 * mib * 40 / 48, Scripts: 8 * mib * 40 / 48, GoLimit: 40 * mib}},
		{64 * mib, statebackend.KindMemory, MemoryBudget{Total: 64 * mib, Backend: 24 * mib * 40 / 56, Cache: 8 * mib * 40 / 56, Buffers: 8 * mib * 40 / 56, Scripts: 8 * mib * 40 / 56, GoLimit: 40 * mib}},
	}
	for _, tt := range tests {
		if got := SplitMemory(tt.total, tt.backend); got != tt.want {
			t.Errorf("SplitMemory(%d MiB, %s) = %+v, want %+v", tt.total/mib, tt.backend, got, tt.want)
		}
	}
}
