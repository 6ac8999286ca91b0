package statebackend

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// writtenFilter is a Bloom filter of every database key written since the database was
// created empty. A cache miss on a key never written (the first record of a key, the common
// case when the keys outnumber the caches) is then answered without reading Badger, whose own
// bloom filters only cover the tables already flushed: the memtables are searched by key.
//
// It is blocked: the bits of a key are all in one 64-bit word, so a lookup touches one cache
// line. It is safe for concurrent use. Once it holds more than one key per filterBitsPerKey
// bits it stops answering (every key may have been written), so that false positives stay
// rare; it never answers wrongly that a written key was not.
type writtenFilter struct {
	words   []uint64
	mask    uint64
	seed    maphash.Seed
	maxKeys int64
	full    atomic.Bool  // more than maxKeys keys: the filter no longer answers
	_       [64]byte     // keeps keys, written by every new key, off the cache line of the above
	keys    atomic.Int64 // keys added that set a new bit (an estimate of the distinct keys)
}

// filterBitsPerKey is the fill at which the filter stops answering: with four bits per key in
// one word, about 3% false positives.
const filterBitsPerKey = 8

// filterShare is the part of the backend's memory share the filter takes (1/filterShare).
const filterShare = 8

// newWrittenFilter returns a filter of at most size bytes (at least 8 KiB).
func newWrittenFilter(size int64) *writtenFilter {
	n := uint64(1) << (bits.Len64(uint64(max(size, 8<<10)/8)) - 1)
	return &writtenFilter{words: make([]uint64, n), mask: n - 1, seed: maphash.MakeSeed(),
		maxKeys: int64(n) * 64 / filterBitsPerKey}
}

// locate returns the word of key and its four bits.
func (f *writtenFilter) locate(key []byte) (*uint64, uint64) {
	h := maphash.Bytes(f.seed, key)
	g := h >> 40
	b := uint64(1)<<(g&63) | uint64(1)<<(g>>6&63) | uint64(1)<<(g>>12&63) | uint64(1)<<(g>>18&63)
	return &f.words[h&f.mask], b
}

// add records that key was written. A nil filter does nothing.
func (f *writtenFilter) add(key []byte) {
	if f == nil {
		return
	}
	w, b := f.locate(key)
	if atomic.LoadUint64(w)&b == b {
		return
	}
	if atomic.OrUint64(w, b)&b != b && f.keys.Add(1) > f.maxKeys && !f.full.Load() {
		f.full.Store(true)
	}
}

// mayHave reports whether key may have been written; false means it never was. A nil filter
// knows nothing.
func (f *writtenFilter) mayHave(key []byte) bool {
	if f == nil || f.full.Load() {
		return true
	}
	w, b := f.locate(key)
	return atomic.LoadUint64(w)&b == b
}
