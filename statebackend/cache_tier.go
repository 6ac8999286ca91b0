package statebackend

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"iter"
	"slices"
	"sync/atomic"
)

// compactTier is a cache's second tier: entries evicted from the decoded (hot) tier kept in
// their stored form, so that a key space several times larger than the hot tier stays in
// memory at a few tens of bytes per key instead of a decoded value's hundred and more.
//
// Entries are records appended to fixed-size segments (an arena of byte slices the garbage
// collector never scans), found through an open-addressing index. A key is in at most one
// tier: a hit here takes the record out (the hot tier holds it again), an eviction from the hot
// tier appends a record. So the segments fill like a log, and a record that was taken or
// replaced leaves garbage behind. When the tier is full it cleans its oldest segments:
// while the live records take less than cleanLive of the budget, they move to the newest
// segment and the garbage is reclaimed; past that, the oldest live records are evicted (FIFO:
// those demoted longest ago and not read since), the dirty ones written back to the table in
// one Apply.
type compactTier struct {
	table Table

	segSize  int
	maxBytes int64    // segments and index, at scale one
	limit    int64    // maxBytes at the current scale
	segs     [][]byte // by segment number; a segment's len is its fill
	segLive  []int32  // live bytes per segment
	segDirty []int32  // dirty records per segment
	order    []int32  // segments in use, oldest first; the last one is being filled
	free     []int32  // allocated segments not in use
	released []int32  // segment numbers whose buffer shrinkFree dropped

	frozen atomic.Int32 // snapshots that still read the segments (freeze)

	index []uint64 // per slot 0 (empty) or hash<<32 | loc+1, linear probing
	seed  maphash.Seed

	count     int   // live records
	dirty     int   // live dirty records
	liveBytes int64 // bytes of live records

	batch []Mutation // reused by write-backs
}

// Record flags.
const (
	recDirty   = 1 << iota // the table does not have this state yet
	recDeleted             // the key is absent (a delete when dirty)
	recDead                // taken, replaced or evicted: garbage
)

// Segment sizes: a tier has segments of maxSegSize, smaller for small budgets (tests), so it
// always has at least minSegments. A record larger than a segment's maxRecordShare is not
// kept (it goes to the table).
const (
	maxSegSize     = 64 << 10
	minSegSize     = 1 << 10
	minSegments    = 8
	maxRecordShare = 8
	initialIndex   = 1 << 10
	slotBytes      = 8
	maxTierBytes   = (1<<16 - 2) * maxSegSize // locations are segment<<16 | offset, plus one
)

// cleanLive is the share of the tier's segment bytes (1/cleanLiveOf) under which cleaning
// moves live records rather than evicting them.
const (
	cleanLive   = 7
	cleanLiveOf = 8
)

// maxIndexShare is the largest part of the tier's budget, in percent, the index may take: a
// larger one would leave too little room for records to fill it.
const maxIndexShare = 45

// cleanFraction is the share of the segments one cleaning round processes (at least one):
// evictions are written back in few, large Applies.
const cleanFraction = 32

func newCompactTier(t Table, maxBytes int64) *compactTier {
	maxBytes = min(maxBytes, maxTierBytes)
	seg := int64(maxSegSize)
	for seg > minSegSize && maxBytes/seg < minSegments {
		seg /= 2
	}
	return &compactTier{table: t, segSize: int(seg), maxBytes: maxBytes, limit: maxBytes,
		index: make([]uint64, initialIndex), seed: maphash.MakeSeed()}
}

// setScale bounds the tier to maxBytes*scale/ScaleOne; it shrinks at its next append.
func (t *compactTier) setScale(scale int64) { t.limit = t.maxBytes * scale / ScaleOne }

// fits reports whether a record of n bytes can be kept at all.
func (t *compactTier) fits(n int) bool { return n <= t.segSize/maxRecordShare }

// hash returns the 32-bit hash of a cache key; its low bits pick the home slot.
func (t *compactTier) hash(key []byte) uint32 {
	h := maphash.Bytes(t.seed, key)
	return uint32(h) ^ uint32(h>>32)
}

// record decodes the record at loc: its flags byte's position, key and stored value.
func (t *compactTier) record(loc uint32) (flags *byte, key, stored []byte) {
	p := t.segs[loc>>16][loc&0xFFFF:]
	return parseRecord(p)
}

// parseRecord splits the record at the start of p.
func parseRecord(p []byte) (flags *byte, key, stored []byte) {
	kl, n1 := binary.Uvarint(p[1:])
	vl, n2 := binary.Uvarint(p[1+n1:])
	k := 1 + n1 + n2
	return &p[0], p[k : k+int(kl)], p[k+int(kl) : k+int(kl)+int(vl)]
}

// segRecord is one record of a segment: where it starts in the walked bytes and its size, its
// flags byte (in place), key and stored value.
type segRecord struct {
	off, size   int
	flags       *byte
	key, stored []byte
}

// records walks the records at the start of p, in order.
func records(p []byte) iter.Seq[segRecord] {
	return func(yield func(segRecord) bool) {
		for off := 0; off < len(p); {
			f, key, stored := parseRecord(p[off:])
			size := recordSize(len(key), len(stored))
			if !yield(segRecord{off: off, size: size, flags: f, key: key, stored: stored}) {
				return
			}
			off += size
		}
	}
}

// recordSize is the size of a record of a key and a value of those lengths.
func recordSize(key, stored int) int {
	return 1 + uvarintLen(uint64(key)) + uvarintLen(uint64(stored)) + key + stored
}

// find returns the slot of key, or -1.
func (t *compactTier) find(key []byte, h uint32) int {
	mask := len(t.index) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := t.index[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == h {
			if _, k, _ := t.record(uint32(s) - 1); string(k) == string(key) {
				return i
			}
		}
	}
}

// lookup returns the slot of key and its record, or slot -1.
func (t *compactTier) lookup(key []byte) (slot int, flags byte, stored []byte) {
	if t.count == 0 {
		return -1, 0, nil
	}
	slot = t.find(key, t.hash(key))
	if slot < 0 {
		return -1, 0, nil
	}
	f, _, stored := t.record(uint32(t.index[slot]) - 1)
	return slot, *f, stored
}

// remove drops the record of slot (from lookup) from the tier.
func (t *compactTier) remove(slot int) {
	loc := uint32(t.index[slot]) - 1
	f, key, stored := t.record(loc)
	t.kill(loc>>16, f, recordSize(len(key), len(stored)))
	t.unindex(slot)
}

// kill marks a live record garbage and updates the counts.
func (t *compactTier) kill(seg uint32, f *byte, size int) {
	if *f&recDirty != 0 {
		t.dirty--
		t.segDirty[seg]--
	}
	*f |= recDead
	t.count--
	t.liveBytes -= int64(size)
	t.segLive[seg] -= int32(size)
}

// unindex empties slot, shifting back the entries of its probe run (no tombstones).
func (t *compactTier) unindex(slot int) {
	mask := len(t.index) - 1
	i := slot
	for j := (i + 1) & mask; t.index[j] != 0; j = (j + 1) & mask {
		home := int(uint32(t.index[j]>>32)) & mask
		// Move j into the hole at i unless its home lies cyclically in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.index[i] = t.index[j]
			i = j
		}
	}
	t.index[i] = 0
}

// indexBytes is the memory of the index.
func (t *compactTier) indexBytes() int64 { return int64(len(t.index)) * slotBytes }

// put appends a record for key (a cache key) with the stored value and flags, cleaning first
// when the tier is full. The key must not be in the tier. The caller checked fits.
func (t *compactTier) put(key, stored []byte, flags byte) error {
	size := recordSize(len(key), len(stored))
	if err := t.fitIndex(); err != nil {
		return err
	}
	for t.needsRoom(size) {
		if err := t.clean(false); err != nil {
			return err
		}
	}
	loc := t.append(key, stored, flags, size)
	h := t.hash(key)
	mask := len(t.index) - 1
	i := int(h) & mask
	for t.index[i] != 0 {
		i = (i + 1) & mask
	}
	t.index[i] = uint64(h)<<32 | uint64(loc+1)
	return nil
}

// needsRoom reports whether the tier must clean before appending size bytes: it holds more
// than its budget (the scale went down), or the record needs a new segment the budget has no
// room for. It always allows minSegments-1 segments.
func (t *compactTier) needsRoom(size int) bool {
	n := len(t.order)
	if n < minSegments-1 {
		return false
	}
	held := int64(n)*int64(t.segSize) + t.indexBytes()
	if held > t.limit {
		return true
	}
	if len(t.segs[t.order[n-1]])+size <= t.segSize {
		return false
	}
	return held+int64(t.segSize) > t.limit
}

// append writes a record into the newest segment (opening one when it is full) and counts
// it live; it returns its location.
func (t *compactTier) append(key, stored []byte, flags byte, size int) uint32 {
	n := len(t.order)
	if n == 0 || len(t.segs[t.order[n-1]])+size > t.segSize {
		t.order = append(t.order, t.newSegment())
		n++
	}
	seg := t.order[n-1]
	p := t.segs[seg]
	loc := uint32(seg)<<16 | uint32(len(p))
	p = append(p, flags&^recDead)
	p = binary.AppendUvarint(p, uint64(len(key)))
	p = binary.AppendUvarint(p, uint64(len(stored)))
	p = append(p, key...)
	t.segs[seg] = append(p, stored...)
	t.count++
	t.liveBytes += int64(size)
	t.segLive[seg] += int32(size)
	if flags&recDirty != 0 {
		t.dirty++
		t.segDirty[seg]++
	}
	return loc
}

// newSegment returns an empty segment, reusing a free one.
func (t *compactTier) newSegment() int32 {
	if n := len(t.free); n > 0 {
		s := t.free[n-1]
		t.free = t.free[:n-1]
		return s
	}
	if n := len(t.released); n > 0 {
		s := t.released[n-1]
		t.released = t.released[:n-1]
		t.segs[s] = make([]byte, 0, t.segSize)
		return s
	}
	t.segs = append(t.segs, make([]byte, 0, t.segSize))
	t.segLive = append(t.segLive, 0)
	t.segDirty = append(t.segDirty, 0)
	return int32(len(t.segs) - 1)
}

// fitIndex makes room in the index for one more record while keeping it within its share of
// the budget (maxIndexShare): it doubles the index when that fits, halves it when it is over
// (after the scale went down), and evicts when the records fill what the index may hold.
func (t *compactTier) fitIndex() error {
	share := t.limit * maxIndexShare / 100
	for {
		var evict bool
		switch {
		case len(t.index) > initialIndex && t.indexBytes() > share:
			if t.count*8 <= len(t.index)*3 { // the records fit half of it
				t.rehash(len(t.index) / 2)
				continue
			}
			evict = true
		case (t.count+1)*4 > len(t.index)*3: // full
			if 2*t.indexBytes() <= share {
				t.rehash(2 * len(t.index))
				return nil
			}
			evict = true
		}
		if !evict || len(t.order) < 2 {
			return nil
		}
		if err := t.clean(true); err != nil {
			return err
		}
	}
}

// rehash moves the index into one of n slots.
func (t *compactTier) rehash(n int) {
	old := t.index
	t.index = make([]uint64, n)
	mask := n - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := int(uint32(s>>32)) & mask
		for t.index[i] != 0 {
			i = (i + 1) & mask
		}
		t.index[i] = s
	}
}

// clean reclaims the oldest segments (cleanFraction of them, never the newest): their live
// records move to the newest segment while the live bytes stay under cleanLive/cleanLiveOf of
// the budget, and are evicted otherwise (all of them when evict), the dirty ones first written
// back in one Apply. On error nothing changes.
func (t *compactTier) clean(evict bool) error {
	k := min(max(len(t.order)/cleanFraction, 1), len(t.order)-1)
	if k <= 0 {
		return nil
	}
	segs := t.order[:k]
	keepBelow := (t.limit - t.indexBytes()) * cleanLive / cleanLiveOf
	if evict {
		keepBelow = 0
	}
	// Decide: records are kept, oldest first, while the live bytes that remain fit.
	live := t.liveBytes
	for _, s := range segs {
		live -= int64(t.segLive[s])
	}
	batch := t.batch[:0]
	keep := live // live bytes outside the cleaned segments, then with the kept ones
	for _, s := range segs {
		for r := range records(t.segs[s]) {
			if *r.flags&recDead != 0 {
				continue
			}
			if keep+int64(r.size) <= keepBelow {
				keep += int64(r.size)
				continue
			}
			if *r.flags&recDirty != 0 {
				batch = append(batch, mutationOf(r.key, r.stored, *r.flags))
			}
		}
	}
	if len(batch) > 0 {
		err := t.table.Apply(batch)
		clear(batch)
		t.batch = batch[:0]
		if err != nil {
			return err
		}
	}
	// Apply: the same walk, moving the kept records and dropping the others.
	keep = live
	t.order = t.order[k:]
	for _, s := range segs {
		for r := range records(t.segs[s]) {
			if *r.flags&recDead != 0 {
				continue
			}
			slot := t.find(r.key, t.hash(r.key))
			flags := *r.flags
			t.kill(uint32(s), r.flags, r.size)
			if keep+int64(r.size) <= keepBelow {
				keep += int64(r.size)
				loc := t.append(r.key, r.stored, flags, r.size)
				t.index[slot] = t.index[slot]&^0xFFFFFFFF | uint64(loc+1)
				continue
			}
			t.unindex(slot)
		}
		if t.frozen.Load() > 0 { // a snapshot still reads its bytes: it gets fresh memory
			t.segs[s] = nil
			t.released = append(t.released, s)
		} else {
			t.segs[s] = t.segs[s][:0]
			t.free = append(t.free, s)
		}
	}
	t.shrinkFree()
	return nil
}

// shrinkFree releases free segments beyond what the budget allows (after the scale went
// down), so the memory goes back to the heap.
func (t *compactTier) shrinkFree() {
	allowed := int((t.limit-t.indexBytes())/int64(t.segSize)) + 1
	for len(t.free) > 0 && len(t.order)+len(t.free) > allowed {
		s := t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
		t.segs[s] = nil
		t.released = append(t.released, s)
	}
}

// mutationOf is the table mutation a dirty record stands for; its slices point into the
// record.
func mutationOf(key, stored []byte, flags byte) Mutation {
	m := Mutation{KG: cacheKeyKG(key), Key: key[2:], Delete: flags&recDeleted != 0}
	if !m.Delete {
		m.Value = stored
	}
	return m
}

// tierWriteBackEntries bounds the records of one write-back Apply. The mutations point into
// the segments (nothing is copied), so it can be larger than the decoded tier's chunks: Badger
// then commits one chunk's transactions while the next ones are built.
const tierWriteBackEntries = 32 << 10

// writeBackDirty writes up to limit dirty records (every one when limit <= 0), oldest first,
// to the table in Applies of at most tierWriteBackEntries, and marks them clean. It returns how
// many it wrote. On error the records of the failed Apply stay dirty.
func (t *compactTier) writeBackDirty(limit int) (int, error) {
	written := 0
	for _, s := range t.order {
		for p := t.segs[s]; len(p) > 0 && t.segDirty[s] > 0; {
			if limit > 0 && written >= limit {
				return written, nil
			}
			n := tierWriteBackEntries
			if limit > 0 {
				n = min(n, limit-written)
			}
			var err error
			if p, err = t.writeChunk(s, p, n); err != nil {
				return written, err
			}
			written += len(t.batch)
			clear(t.batch)
			t.batch = t.batch[:0]
		}
	}
	return written, nil
}

// writeChunk writes up to n dirty records of segment s found in p (a suffix of the segment)
// in one Apply, leaving them in t.batch, marks them clean and returns the rest of p.
func (t *compactTier) writeChunk(s int32, p []byte, n int) ([]byte, error) {
	batch := t.batch[:0]
	start, walked := p, 0
	for r := range records(p) {
		if len(batch) == n {
			break
		}
		walked = r.off + r.size
		if *r.flags&(recDead|recDirty) == recDirty {
			batch = append(batch, mutationOf(r.key, r.stored, *r.flags))
		}
	}
	p = p[walked:]
	t.batch = batch
	if len(batch) == 0 {
		return p, nil
	}
	if err := t.table.Apply(batch); err != nil {
		clear(batch)
		t.batch = batch[:0]
		return start, err
	}
	for r := range records(start[:walked]) {
		if *r.flags&(recDead|recDirty) == recDirty {
			*r.flags &^= recDirty
			t.dirty--
			t.segDirty[s]--
		}
	}
	return p, nil
}

// freeze notes where the dirty records are, for a snapshot: their bytes stay where they are,
// and until the snapshot releases them the tier gives a cleaned segment fresh memory instead of
// reusing it (frozen), so the snapshot reads them as they were. Only the flags change in place,
// so the snapshot keeps its own copy of them.
//
// Only the records of the keys in keep are frozen.
func (t *compactTier) freeze(keep keySet) frozenTier {
	var z frozenTier
	if t.dirty == 0 {
		return z
	}
	z.segs = slices.Clone(t.segs)
	n := t.dirty
	if keep != nil {
		n = min(n, len(keep))
	}
	z.recs = make([]frozenRecord, 0, n)
	if keep != nil && len(keep) < t.dirty {
		// Fewer keys to keep than dirty records: look them up rather than walk the tier.
		for k := range keep {
			key := []byte(k)
			slot := t.find(key, t.hash(key))
			if slot < 0 {
				continue
			}
			loc := uint32(t.index[slot]) - 1
			if f, _, _ := t.record(loc); *f&(recDead|recDirty) == recDirty {
				z.recs = append(z.recs, frozenRecord{seg: int32(loc >> 16), off: loc & 0xFFFF, flags: *f})
			}
		}
		t.frozen.Add(1)
		z.frozen = &t.frozen
		return z
	}
	for _, s := range t.order {
		if t.segDirty[s] == 0 {
			continue
		}
		for r := range records(t.segs[s]) {
			if *r.flags&(recDead|recDirty) == recDirty && keep.hasBytes(r.key) {
				z.recs = append(z.recs, frozenRecord{seg: s, off: uint32(r.off), flags: *r.flags})
			}
		}
	}
	t.frozen.Add(1)
	z.frozen = &t.frozen
	return z
}

// frozenTier is the dirty records of a second tier at a snapshot's freeze.
type frozenTier struct {
	segs   [][]byte       // the tier's segments at the freeze
	recs   []frozenRecord // sorted by key when written
	frozen *atomic.Int32  // the tier's count of snapshots holding its segments (nil: none)
}

// frozenRecord is where a frozen record is, with its flags at the freeze and the first bytes
// of its key (sorting a million records compares these, not the keys in the segments; sort
// fills them in, on the snapshot's goroutine, to keep the freeze short).
type frozenRecord struct {
	prefix uint64
	seg    int32
	off    uint32
	flags  byte
}

// keyPrefix is the first 8 bytes of a cache key (the key group, then the key) as a big-endian
// number, zero-padded: prefixes order as the keys do, except that equal ones need the rest.
func keyPrefix(key []byte) uint64 {
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

// len is the number of frozen records.
func (z *frozenTier) len() int { return len(z.recs) }

// record returns frozen record i.
func (z *frozenTier) record(i int) (flags byte, key, stored []byte) {
	r := z.recs[i]
	_, key, stored = parseRecord(z.segs[r.seg][r.off:])
	return r.flags, key, stored
}

// release lets the tier reuse the segments again (once per freeze).
func (z *frozenTier) release() {
	if z.frozen != nil {
		z.frozen.Add(-1)
		z.frozen = nil
	}
}

// sort orders the frozen records by cache key.
func (z *frozenTier) sort() {
	for i := range z.recs {
		r := &z.recs[i]
		_, key, _ := parseRecord(z.segs[r.seg][r.off:])
		r.prefix = keyPrefix(key)
	}
	slices.SortFunc(z.recs, func(a, b frozenRecord) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		_, ka, _ := parseRecord(z.segs[a.seg][a.off:])
		_, kb, _ := parseRecord(z.segs[b.seg][b.off:])
		return bytes.Compare(ka, kb)
	})
}
