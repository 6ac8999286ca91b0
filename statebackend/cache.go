package statebackend

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// DefaultCacheBytes is the MaxBytes of a Cache whose options leave it zero.
const DefaultCacheBytes = 16 << 20

// CacheOptions configure a Cache.
type CacheOptions struct {
	// MaxBytes bounds the estimated memory of the cached entries (default DefaultCacheBytes):
	// the cache holds as many entries as fit and evicts the least recently used ones (CLOCK).
	MaxBytes int64
	// Capacity, when positive, also bounds the number of entries.
	Capacity int
	// TTL expires entries not written for that long (0: never). Expiry is by processing time:
	// the write time is stored with the value, so downtime counts.
	TTL time.Duration
	// Now returns the processing time in Unix milliseconds (default: the wall clock).
	Now func() int64
	// Scale, when set, scales the entry limit by Scale/ScaleOne: the job lowers it while its
	// heap is over its share of the memory budget (the sizes the cache estimates are only
	// estimates) and raises it back once the heap is below (nil: ScaleOne).
	Scale *atomic.Int64
	// Live, when set, counts the keys present in the state: a write that makes a key present
	// adds one, a delete or an expiry of a present key takes one away (caches of one state
	// share it; the job starts it at the entries it restored). A write to a key the cache
	// does not hold reads it first, to know whether it was present.
	Live *atomic.Int64
	// SecondTier keeps the entries evicted from the decoded values encoded, in a compact
	// second tier of the cache, instead of writing them back at once: the decoded tier then
	// gets 1/hotShare of MaxBytes and the second tier the rest (see compactTier).
	SecondTier bool
}

// hotShare divides MaxBytes with a second tier: the decoded tier gets 1/hotShare of it.
const hotShare = 8

// ScaleOne is CacheOptions.Scale at which the cache holds all that MaxBytes allows.
const ScaleOne = 1024

// Cache is a write-back cache of decoded values in front of one table, owned by one subtask
// (not safe for concurrent use). Reads hit the cache; writes mark entries dirty; Flush writes
// all dirty entries to the table in one Apply.
//
// The cache holds as many entries as its byte budget allows (sizes are estimated from the
// encoded values it reads and writes). When it is full it evicts a batch of entries chosen by
// CLOCK (second chance: an entry read or written since the hand last passed survives one
// more round), writing the dirty ones back in one Apply, so a key space larger than the cache
// costs a table read per miss, never a flush of everything.
//
// The cache also remembers absent keys (a miss that found nothing), so the common "get, then
// put a new key" path reads the table once, and repeated reads of an absent key do not reach
// the table. An entry found expired is turned into a delete, so the next Flush removes it
// from the table.
type Cache struct {
	table Table
	codec Codec
	opts  CacheOptions
	base  *Base        // entries not yet in the table (a lazy restore); nil once loaded
	tier  *compactTier // with CacheOptions.SecondTier: entries evicted from entries
	hot   int64        // the byte budget of entries

	entries map[string]*cacheEntry // by cacheKey(kg, key)
	clock   clockRing              // every entry, in CLOCK order
	size    sizeEstimate           // average entry cost, for the capacity
	limit   int                    // entries held before evicting
	dirty   []*cacheEntry          // entries dirtied since the last write-back, in first-dirtied order (may hold stale ones)
	stale   int                    // entries of dirty no longer dirty (evicted)
	scratch []byte                 // builds lookup keys without allocating
	keyBuf  []byte                 // a demoted entry's key

	batch   []Mutation    // reused by writeBack
	buf     []byte        // reused by writeBack for keys and encoded values
	victims []*cacheEntry // reused by evict
	scale   int64         // the Scale the limit was computed with
	changes *changeSet    // the keys written since TrackChanges, if tracking
}

// cacheEntry is the cached state of one key. A deleted entry records absence: dirty when the
// table still has to forget the key, clean when the table is known not to hold it.
type cacheEntry struct {
	key       string // cacheKey: kg (2 bytes big-endian) then the key bytes
	value     any
	writtenMs int64 // processing time of the last write (kept only with a TTL)
	slot      int32 // index in the clock ring
	dirty     bool
	deleted   bool
	used      bool // read or written since the clock hand last passed
}

// NewCache returns a cache in front of t.
func NewCache(t Table, c Codec, opts CacheOptions) *Cache {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultCacheBytes
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	c2 := &Cache{table: t, codec: c, opts: opts, entries: make(map[string]*cacheEntry), hot: opts.MaxBytes}
	if opts.SecondTier {
		c2.hot = opts.MaxBytes / hotShare
		c2.tier = newCompactTier(t, opts.MaxBytes-c2.hot)
	}
	c2.resize()
	return c2
}

// Len returns the number of cached entries (present, absent or deleted) in both tiers.
func (c *Cache) Len() int {
	if c.tier != nil {
		return len(c.entries) + c.tier.count
	}
	return len(c.entries)
}

// resize recomputes the entry limit from the byte budget, the current size estimate and
// the scale.
func (c *Cache) resize() {
	c.scale = ScaleOne
	if c.opts.Scale != nil {
		c.scale = min(max(c.opts.Scale.Load(), 1), ScaleOne)
	}
	c.limit = int(max(c.hot/c.size.cost()*c.scale/ScaleOne, 1))
	if c.tier != nil {
		c.tier.setScale(c.scale)
	}
	if c.opts.Capacity > 0 {
		c.limit = min(c.limit, c.opts.Capacity)
	}
}

// lookupKey builds the cache key of (kg, key) in c.scratch; the result is only valid until
// the next call.
func (c *Cache) lookupKey(kg uint16, key []byte) []byte {
	c.scratch = binary.BigEndian.AppendUint16(c.scratch[:0], kg)
	c.scratch = append(c.scratch, key...)
	return c.scratch
}

// Get returns the value of (kg, key); ok is false when absent or expired. The value is the
// cached one: treat it as immutable and Put a new value to change the state.
func (c *Cache) Get(kg uint16, key []byte) (v any, ok bool, err error) {
	if e := c.entries[string(c.lookupKey(kg, key))]; e != nil {
		if e.deleted {
			return nil, false, nil
		}
		if c.opts.TTL > 0 && Expired(c.opts.TTL, e.writtenMs, c.opts.Now()) {
			c.markDeleted(e)
			c.count(-1)
			return nil, false, nil
		}
		e.used = true
		return e.value, true, nil
	}
	return c.load(kg, key)
}

// load reads (kg, key) on a cache miss, from the base while it still serves the key and from
// the table otherwise, and caches the outcome. A value taken from the base is cached dirty:
// the table gets it when the entry is written back.
func (c *Cache) load(kg uint16, key []byte) (any, bool, error) {
	if err := c.reserve(); err != nil {
		return nil, false, err
	}
	if c.tier != nil {
		if slot, flags, stored := c.tier.lookup(c.lookupKey(kg, key)); slot >= 0 {
			return c.promote(kg, key, slot, flags, stored)
		}
	}
	stored, fromBase := c.takeBase(kg, key)
	ok := fromBase
	if !fromBase {
		var err error
		if stored, ok, err = c.table.Get(kg, key); err != nil {
			return nil, false, fmt.Errorf("state cache load: %w", err)
		}
	}
	e := c.add(kg, key)
	if !ok {
		e.deleted = true
		return nil, false, nil
	}
	writtenMs, raw, err := DecodeStored(c.opts.TTL, stored)
	if err != nil {
		return nil, false, fmt.Errorf("state cache load: %w", err)
	}
	if Expired(c.opts.TTL, writtenMs, c.opts.Now()) {
		c.markDeleted(e)
		c.count(-1)
		return nil, false, nil
	}
	v, err := c.codec.Decode(raw)
	if err != nil {
		c.forget(e)
		return nil, false, fmt.Errorf("state cache load: decode: %w", err)
	}
	e.value, e.writtenMs = v, writtenMs
	if fromBase {
		c.markDirty(e)
	}
	c.size.observe(len(e.key), valueSize(v))
	return v, true, nil
}

// Put sets the value of (kg, key). v must not be modified afterwards.
func (c *Cache) Put(kg uint16, key []byte, v any) error {
	e, present, err := c.resolve(kg, key)
	if err != nil {
		return err
	}
	if !present {
		c.count(1)
	}
	e.value, e.deleted, e.used = v, false, true
	if c.opts.TTL > 0 {
		e.writtenMs = c.opts.Now()
	}
	c.markDirty(e)
	return nil
}

// Delete removes (kg, key).
func (c *Cache) Delete(kg uint16, key []byte) error {
	e, present, err := c.resolve(kg, key)
	if err != nil {
		return err
	}
	if present {
		c.count(-1)
	}
	c.markDeleted(e)
	return nil
}

// resolve returns the cached entry of (kg, key) for a write, and whether the key is present
// in the state. Without a Live count it does not need to know: a miss inserts an empty entry
// without reading the table (present is then true, and not counted). With one, a miss loads
// the key first.
func (c *Cache) resolve(kg uint16, key []byte) (*cacheEntry, bool, error) {
	if c.opts.Live == nil {
		e, err := c.entry(kg, key)
		return e, true, err
	}
	if e := c.entries[string(c.lookupKey(kg, key))]; e != nil {
		if !e.deleted && c.opts.TTL > 0 && Expired(c.opts.TTL, e.writtenMs, c.opts.Now()) {
			c.markDeleted(e)
			c.count(-1)
		}
		return e, !e.deleted, nil
	}
	_, ok, err := c.load(kg, key)
	if err != nil {
		return nil, false, err
	}
	return c.entries[string(c.lookupKey(kg, key))], ok, nil
}

// count adds d to the Live count, if any.
func (c *Cache) count(d int64) {
	if c.opts.Live != nil {
		c.opts.Live.Add(d)
	}
}

// promote moves the second tier's record of (kg, key), at slot, into the decoded tier (which
// has room) and returns its value. On a decode error the record stays.
func (c *Cache) promote(kg uint16, key []byte, slot int, flags byte, stored []byte) (any, bool, error) {
	var v any
	var writtenMs int64
	if flags&recDeleted == 0 {
		w, raw, err := DecodeStored(c.opts.TTL, stored)
		if err == nil {
			v, err = c.codec.Decode(raw)
		}
		if err != nil {
			return nil, false, fmt.Errorf("state cache load: decode: %w", err)
		}
		writtenMs = w
	}
	c.tier.remove(slot)
	e := c.add(kg, key)
	e.value, e.writtenMs, e.deleted = v, writtenMs, flags&recDeleted != 0
	if flags&recDirty != 0 {
		c.markDirty(e)
	}
	if e.deleted {
		return nil, false, nil
	}
	if Expired(c.opts.TTL, writtenMs, c.opts.Now()) {
		c.markDeleted(e)
		c.count(-1)
		return nil, false, nil
	}
	c.size.observe(len(e.key), valueSize(v))
	return v, true, nil
}

// entry returns the cached entry of (kg, key), inserting an empty one on a miss.
func (c *Cache) entry(kg uint16, key []byte) (*cacheEntry, error) {
	if e := c.entries[string(c.lookupKey(kg, key))]; e != nil {
		return e, nil
	}
	if err := c.reserve(); err != nil {
		return nil, err
	}
	if c.tier != nil {
		if slot, _, _ := c.tier.lookup(c.lookupKey(kg, key)); slot >= 0 {
			c.tier.remove(slot) // the write replaces it
		}
	}
	c.takeBase(kg, key) // the write replaces what the base holds
	return c.add(kg, key), nil
}

// takeBase marks (kg, key) taken in the base and returns its stored value when the base still
// served it.
func (c *Cache) takeBase(kg uint16, key []byte) ([]byte, bool) {
	if c.base == nil {
		return nil, false
	}
	return c.base.take(kg, key)
}

// reserve makes room for one more entry in the decoded tier, evicting a batch of entries when
// it is full. It comes before a miss touches anything, so that a failed write-back loses
// nothing.
func (c *Cache) reserve() error {
	if c.opts.Scale != nil && c.opts.Scale.Load() != c.scale {
		c.resize()
	}
	if len(c.entries) >= c.limit {
		return c.evict()
	}
	return nil
}

// add adds a clean, empty entry for (kg, key); reserve made room for it.
func (c *Cache) add(kg uint16, key []byte) *cacheEntry {
	e := &cacheEntry{key: string(c.lookupKey(kg, key))}
	c.entries[e.key] = e
	c.clock.add(e)
	return e
}

// forget drops a clean entry.
func (c *Cache) forget(e *cacheEntry) {
	delete(c.entries, e.key)
	c.clock.remove(e)
}

func (c *Cache) markDeleted(e *cacheEntry) {
	e.value, e.deleted = nil, true
	c.markDirty(e)
}

func (c *Cache) markDirty(e *cacheEntry) {
	if c.changes != nil {
		c.changes.add(e.key)
	}
	if !e.dirty {
		e.dirty = true
		c.dirty = append(c.dirty, e)
	}
}

// Flush writes every dirty entry to the table. On error the entries stay dirty.
func (c *Cache) Flush() error {
	if err := c.writeBack(c.dirty); err != nil {
		return fmt.Errorf("state cache flush: %w", err)
	}
	clear(c.dirty) // drop the pointers so evicted entries can be collected
	c.dirty, c.stale = c.dirty[:0], 0
	if c.tier != nil {
		if _, err := c.tier.writeBackDirty(0); err != nil {
			return fmt.Errorf("state cache flush: %w", err)
		}
	}
	return nil
}

// Write-back chunks: a write-back applies at most this many entries, or about this many
// bytes, at once, so that writing back a whole cache (a checkpoint) needs little memory.
const (
	writeBackEntries = 4096
	writeBackBytes   = 1 << 20
)

// writeBack writes the dirty entries among es to the table and marks them clean, in chunks
// of one Apply each; entries already clean are skipped. On error the entries not yet written
// stay dirty.
func (c *Cache) writeBack(es []*cacheEntry) error {
	for len(es) > 0 {
		n, err := c.writeChunk(es)
		if err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

// writeChunk writes the dirty entries of a prefix of es in one Apply, marks them clean and
// returns the prefix's length.
func (c *Cache) writeChunk(es []*cacheEntry) (int, error) {
	batch, buf := c.batch[:0], c.buf[:0]
	n := 0
	for ; n < len(es) && len(batch) < writeBackEntries && len(buf) < writeBackBytes; n++ {
		e := es[n]
		if !e.dirty {
			continue
		}
		start := len(buf)
		buf = append(buf, e.key[2:]...)
		m := Mutation{KG: uint16(e.key[0])<<8 | uint16(e.key[1]), Delete: e.deleted}
		m.Key = buf[start:len(buf):len(buf)]
		if !e.deleted {
			start = len(buf)
			buf = appendStoredHeader(buf, c.opts.TTL, e.writtenMs)
			var err error
			if buf, err = c.codec.Append(buf, e.value); err != nil {
				return 0, fmt.Errorf("encode: %w", err)
			}
			m.Value = buf[start:len(buf):len(buf)]
			c.size.observe(len(e.key), valueSize(e.value))
		}
		batch = append(batch, m)
	}
	if len(batch) > 0 {
		if err := c.table.Apply(batch); err != nil {
			return 0, err
		}
	}
	for _, e := range es[:n] {
		e.dirty = false
	}
	clear(batch)
	c.batch, c.buf = batch[:0], buf[:0]
	if cap(c.buf) > 2*writeBackBytes { // a single huge value: do not keep its buffer
		c.buf = nil
	}
	return n, nil
}

// evictFraction is the share of the entries evicted at once when the cache is full: evicting
// in batches writes dirty entries back in few, large Applies.
const evictFraction = 32

// evict removes a batch of entries chosen by the clock, moving them to the second tier or
// writing the dirty ones back, then recomputes the entry limit from the sizes seen so far.
func (c *Cache) evict() error {
	n := max(len(c.entries)/evictFraction, 1)
	victims := c.victims[:0]
	for len(victims) < n {
		victims = append(victims, c.clock.next())
	}
	c.victims = victims
	dirty := 0
	for _, e := range victims {
		if e.dirty {
			dirty++
		}
	}
	if c.tier != nil {
		return c.demote(victims, dirty)
	}
	if err := c.writeBack(victims); err != nil {
		// Keep every entry: nothing is lost, and the next insert tries again.
		for _, e := range victims {
			c.clock.add(e)
		}
		clear(victims)
		return fmt.Errorf("state cache write-back: %w", err)
	}
	c.dropVictims(victims, dirty)
	return nil
}

// dropVictims forgets evicted entries that are clean now (dirty of them were dirty).
func (c *Cache) dropVictims(victims []*cacheEntry, dirty int) {
	for _, e := range victims {
		delete(c.entries, e.key)
		e.value = nil // the dirty list may still point at e until it is compacted
	}
	clear(victims)
	c.stale += dirty
	if c.stale > len(c.dirty)/2 {
		c.dirty = slices.DeleteFunc(c.dirty, func(e *cacheEntry) bool { return !e.dirty })
		c.stale = 0
	}
	c.resize()
}

// demote moves evicted entries (dirty of them dirty) into the second tier, encoded. An entry
// too large for it is written back instead. On error the entries not moved yet go back to
// the clock.
func (c *Cache) demote(victims []*cacheEntry, dirty int) error {
	for i, e := range victims {
		if err := c.demoteOne(e); err != nil {
			for _, r := range victims[i:] {
				c.clock.add(r)
			}
			for _, r := range victims[:i] {
				delete(c.entries, r.key)
				r.value = nil
			}
			clear(victims)
			return fmt.Errorf("state cache eviction: %w", err)
		}
	}
	c.dropVictims(victims, dirty)
	return nil
}

// demoteOne moves one evicted entry into the second tier and marks it clean in this one.
func (c *Cache) demoteOne(e *cacheEntry) error {
	flags := byte(0)
	buf := c.buf[:0]
	if e.deleted {
		flags |= recDeleted
	} else {
		buf = appendStoredHeader(buf, c.opts.TTL, e.writtenMs)
		var err error
		if buf, err = c.codec.Append(buf, e.value); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	c.buf = buf
	if e.dirty {
		flags |= recDirty
	}
	if !c.tier.fits(recordSize(len(e.key), len(buf))) {
		return c.writeBack([]*cacheEntry{e})
	}
	c.keyBuf = append(c.keyBuf[:0], e.key...)
	if err := c.tier.put(c.keyBuf, buf, flags); err != nil {
		return err
	}
	e.dirty = false
	return nil
}
