package statebackend

import (
	"encoding/binary"
	"fmt"
	"time"
)

// DefaultCacheCapacity is the Capacity of a Cache whose options leave it zero.
const DefaultCacheCapacity = 65536

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Capacity is the number of entries held before dirty ones are flushed and the cache is
	// emptied (default 65536).
	Capacity int
	// TTL expires entries not written for that long (0: never). Expiry is by processing time:
	// the write time is stored with the value, so downtime counts.
	TTL time.Duration
	// Now returns the processing time in Unix milliseconds (default: the wall clock).
	Now func() int64
}

// Cache is a write-back cache of decoded values in front of one table, owned by one subtask
// (not safe for concurrent use). Reads hit the cache; writes mark entries dirty; Flush writes
// all dirty entries to the table in one Apply.
//
// The cache also remembers absent keys (a miss that found nothing), so the common "get, then
// put a new key" path reads the table once. An entry found expired is turned into a delete,
// so the next Flush removes it from the table.
type Cache struct {
	table Table
	codec Codec
	opts  CacheOptions

	entries map[string]*cacheEntry // by cacheKey(kg, key)
	dirty   []*cacheEntry          // entries with dirty set, in first-dirtied order
	scratch []byte                 // builds lookup keys without allocating

	batch []Mutation // reused by Flush
	buf   []byte     // reused by Flush for keys and encoded values
}

// cacheEntry is the cached state of one key. A deleted entry records absence: dirty when the
// table still has to forget the key, clean when the table is known not to hold it.
type cacheEntry struct {
	key       string // cacheKey: kg (2 bytes big-endian) then the key bytes
	value     any
	writtenMs int64 // processing time of the last write (kept only with a TTL)
	dirty     bool
	deleted   bool
}

// NewCache returns a cache in front of t.
func NewCache(t Table, c Codec, opts CacheOptions) *Cache {
	if opts.Capacity <= 0 {
		opts.Capacity = DefaultCacheCapacity
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return time.Now().UnixMilli() }
	}
	return &Cache{table: t, codec: c, opts: opts, entries: make(map[string]*cacheEntry)}
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
		return e.value, true, nil
	}
	return c.load(kg, key)
}

// load reads (kg, key) from the table on a cache miss and caches the outcome.
func (c *Cache) load(kg uint16, key []byte) (any, bool, error) {
	stored, ok, err := c.table.Get(kg, key)
	if err != nil {
		return nil, false, fmt.Errorf("state cache load: %w", err)
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
	return v, true, nil
}

// Put sets the value of (kg, key). v must not be modified afterwards.
func (c *Cache) Put(kg uint16, key []byte, v any) error {
	e, err := c.entry(kg, key)
	if err != nil {
		return err
	}
	e.value, e.deleted = v, false
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
	return c.insert(kg, key)
}

// insert adds a clean, empty entry for (kg, key), first flushing and emptying the cache when
// it is full.
func (c *Cache) insert(kg uint16, key []byte) (*cacheEntry, error) {
	if len(c.entries) >= c.opts.Capacity {
		if err := c.Flush(); err != nil {
			return nil, err
		}
		clear(c.entries)
	}
	e := &cacheEntry{key: string(c.lookupKey(kg, key))}
	c.entries[e.key] = e
	return e, nil
}

// forget drops a clean entry.
func (c *Cache) forget(e *cacheEntry) { delete(c.entries, e.key) }

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
	if len(c.dirty) == 0 {
		return nil
	}
	batch, buf := c.batch[:0], c.buf[:0]
	for _, e := range c.dirty {
		start := len(buf)
		buf = append(buf, e.key[2:]...)
		m := Mutation{KG: uint16(e.key[0])<<8 | uint16(e.key[1]), Delete: e.deleted}
		m.Key = buf[start:len(buf):len(buf)]
		if !e.deleted {
			start = len(buf)
			buf = appendStoredHeader(buf, c.opts.TTL, e.writtenMs)
			var err error
			if buf, err = c.codec.Append(buf, e.value); err != nil {
				return fmt.Errorf("state cache flush: encode: %w", err)
			}
			m.Value = buf[start:len(buf):len(buf)]
		}
		batch = append(batch, m)
	}
	if err := c.table.Apply(batch); err != nil {
		return fmt.Errorf("state cache flush: %w", err)
	}
	for _, e := range c.dirty {
		e.dirty = false
	}
	clear(c.dirty) // drop the pointers so emptied entries can be collected
	clear(batch)
	c.dirty, c.batch, c.buf = c.dirty[:0], batch[:0], buf[:0]
	return nil
}
