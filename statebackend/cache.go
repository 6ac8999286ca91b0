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
}

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
	base  *Base // entries not yet in the table (a lazy restore); nil once loaded

	entries map[string]*cacheEntry // by cacheKey(kg, key)
	clock   clockRing              // every entry, in CLOCK order
	size    sizeEstimate           // average entry cost, for the capacity
	limit   int                    // entries held before evicting
	dirty   []*cacheEntry          // entries dirtied since the last write-back, in first-dirtied order (may hold stale ones)
	stale   int                    // entries of dirty no longer dirty (evicted)
	scratch []byte                 // builds lookup keys without allocating

	batch   []Mutation    // reused by writeBack
	buf     []byte        // reused by writeBack for keys and encoded values
	victims []*cacheEntry // reused by evict
	scale   int64         // the Scale the limit was computed with
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
	c2 := &Cache{table: t, codec: c, opts: opts, entries: make(map[string]*cacheEntry)}
	c2.resize()
	return c2
}

// Len returns the number of cached entries (present, absent or deleted).
func (c *Cache) Len() int { return len(c.entries) }

// resize recomputes the entry limit from the byte budget, the current size estimate and
// the scale.
func (c *Cache) resize() {
	c.scale = ScaleOne
	if c.opts.Scale != nil {
		c.scale = min(max(c.opts.Scale.Load(), 1), ScaleOne)
	}
	c.limit = int(max(c.opts.MaxBytes/c.size.cost()*c.scale/ScaleOne, 1))
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
	stored, fromBase := c.takeBase(kg, key)
	ok := fromBase
	if !fromBase {
		var err error
		if stored, ok, err = c.table.Get(kg, key); err != nil {
			return nil, false, fmt.Errorf("state cache load: %w", err)
		}
	}
	e, err := c.insert(kg, key)
	if err != nil {
		return nil, false, err
	}
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
	e, err := c.entry(kg, key)
	if err != nil {
		return err
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
	e, err := c.entry(kg, key)
	if err != nil {
		return err
	}
	c.markDeleted(e)
	return nil
}

// entry returns the cached entry of (kg, key), inserting an empty one on a miss.
func (c *Cache) entry(kg uint16, key []byte) (*cacheEntry, error) {
	if e := c.entries[string(c.lookupKey(kg, key))]; e != nil {
		return e, nil
	}
	c.takeBase(kg, key) // the write replaces what the base holds
	return c.insert(kg, key)
}

// takeBase marks (kg, key) taken in the base and returns its stored value when the base still
// served it.
func (c *Cache) takeBase(kg uint16, key []byte) ([]byte, bool) {
	if c.base == nil {
		return nil, false
	}
	return c.base.take(kg, key)
}

// insert adds a clean, empty entry for (kg, key), first evicting a batch of entries when the
// cache is full.
func (c *Cache) insert(kg uint16, key []byte) (*cacheEntry, error) {
	if c.opts.Scale != nil && c.opts.Scale.Load() != c.scale {
		c.resize()
	}
	if len(c.entries) >= c.limit {
		if err := c.evict(); err != nil {
			return nil, err
		}
	}
	e := &cacheEntry{key: string(c.lookupKey(kg, key))}
	c.entries[e.key] = e
	c.clock.add(e)
	return e, nil
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

// evict removes a batch of entries chosen by the clock, writing the dirty ones back first,
// then recomputes the entry limit from the sizes seen so far.
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
	if err := c.writeBack(victims); err != nil {
		// Keep every entry: nothing is lost, and the next insert tries again.
		for _, e := range victims {
			c.clock.add(e)
		}
		clear(victims)
		return fmt.Errorf("state cache write-back: %w", err)
	}
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
	return nil
}
