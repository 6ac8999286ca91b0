package runtime

import (
	"encoding/binary"

	"github.com/pipectl/pipectl/pipeline"
)

// window is a time window [start, end) in Unix ms.
type window struct{ start, end int64 }

// maxTs is the last instant of the window: it fires when the watermark (or the clock)
// reaches it, as in Flink.
func (w window) maxTs() int64 { return w.end - 1 }

// intersects reports whether two session windows overlap or touch (and so merge).
func (w window) intersects(o window) bool { return w.start <= o.end && o.start <= w.end }

// cover is the smallest window holding both.
func (w window) cover(o window) window {
	return window{min(w.start, o.start), max(w.end, o.end)}
}

// assigner puts a timestamp into its windows, aligned to the epoch (docs/pipelines.md, Event time and windows).
type assigner struct {
	size, slide int64 // tumbling: slide == size
	gap         int64 // session windows when > 0
}

func newAssigner(w *pipeline.Window) assigner {
	switch {
	case w.SessionGap > 0:
		return assigner{gap: w.SessionGap.Milliseconds()}
	case w.SlidingSize > 0:
		return assigner{size: w.SlidingSize.Milliseconds(), slide: w.SlidingSlide.Milliseconds()}
	}
	return assigner{size: w.Tumbling.Milliseconds(), slide: w.Tumbling.Milliseconds()}
}

func (a assigner) session() bool { return a.gap > 0 }

// assign appends the windows of ts to dst: one tumbling window, size/slide sliding windows
// (latest first), or the session window [ts, ts+gap) before merging.
func (a assigner) assign(dst []window, ts int64) []window {
	if a.session() {
		return append(dst, window{ts, ts + a.gap})
	}
	last := ts - floorMod(ts, a.slide)
	for start := last; start > ts-a.size; start -= a.slide {
		dst = append(dst, window{start, start + a.size})
	}
	return dst
}

// endingAt is the tumbling or sliding window whose maxTs is t.
func (a assigner) endingAt(t int64) window { return window{t + 1 - a.size, t + 1} }

// floorMod is the modulus with the sign of m, so windows before the epoch align too.
func floorMod(x, m int64) int64 {
	r := x % m
	if r < 0 {
		r += m
	}
	return r
}

// nsKey appends the state key of one key's window: the key's bytes, then start and end as
// zigzag varints, which is the binary encoding of the tuple (key, start, end).
func nsKey(dst, keyBytes []byte, w window) []byte {
	dst = append(dst[:0], keyBytes...)
	dst = binary.AppendVarint(dst, w.start)
	return binary.AppendVarint(dst, w.end)
}
