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
