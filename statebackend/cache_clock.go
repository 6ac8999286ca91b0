package statebackend

// clockRing orders a cache's entries for CLOCK eviction: a hand sweeps the slots, clearing
// the used bit of entries touched since its last pass and taking the first untouched one. A
// new entry takes a free slot, so it waits a whole round before the hand reaches it.
type clockRing struct {
	slots []*cacheEntry // nil: free
	free  []int32       // indexes of free slots
	hand  int
}

// add places e in a free slot.
func (r *clockRing) add(e *cacheEntry) {
	if n := len(r.free); n > 0 {
		e.slot = r.free[n-1]
		r.free = r.free[:n-1]
		r.slots[e.slot] = e
		return
	}
	e.slot = int32(len(r.slots))
	r.slots = append(r.slots, e)
}

// remove frees e's slot.
func (r *clockRing) remove(e *cacheEntry) {
	r.slots[e.slot] = nil
	r.free = append(r.free, e.slot)
}

// next removes and returns the next victim: the first entry after the hand not used since
// the hand last passed it. The ring must hold an entry.
func (r *clockRing) next() *cacheEntry {
	for {
		if r.hand >= len(r.slots) {
			r.hand = 0
		}
		e := r.slots[r.hand]
		r.hand++
		switch {
		case e == nil:
		case e.used:
			e.used = false
		default:
			r.remove(e)
			return e
		}
	}
}

// sizeEstimate is a running average of the key and decoded value sizes a cache sees, from
// which it estimates what an entry costs in memory.
type sizeEstimate struct {
	key, value float64 // averages in bytes; zero until the first observation
}

// Sizes assumed before any has been seen.
const (
	initialKeyBytes   = 16
	initialValueBytes = 64
)

// entryOverhead is the memory of a cached entry beside its key and value bytes: the entry
// itself (48 bytes), its map slot with the load factor (about 32), its key's allocation
// rounding (about 8), its ring slot (8) and the dirty list's share (8), rounded up.
const entryOverhead = 112

// observe adds one entry's key length and decoded value size (valueSize) to the averages, an
// exponential moving average over about the last 64 observations.
func (s *sizeEstimate) observe(key, value int) {
	if s.key == 0 {
		s.key, s.value = float64(key), float64(value)
		return
	}
	s.key += (float64(key) - s.key) / 64
	s.value += (float64(value) - s.value) / 64
}

// cost is the estimated memory of one entry.
func (s *sizeEstimate) cost() int64 {
	k, v := s.key, s.value
	if k == 0 {
		k, v = initialKeyBytes, initialValueBytes
	}
	return entryOverhead + int64(k) + int64(v)
}
