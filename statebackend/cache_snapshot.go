package statebackend

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TableView is a consistent, read-only view of a table as it was at one moment; later writes
// do not show in it. It may be used from any goroutine, and must be closed.
type TableView interface {
	// Scan is Table.Scan on the view.
	Scan(from, to uint16, fn func(kg uint16, key, value []byte) error) error
	// Get is Table.Get on the view.
	Get(kg uint16, key []byte) (value []byte, ok bool, err error)
	Close()
}

// Viewer is implemented by tables that can give a TableView cheaply (badger: a read
// transaction). Asynchronous snapshots need it.
type Viewer interface {
	View() TableView
}

// Viewing is implemented by backends whose tables are all Viewers: callers can tell without
// creating a table.
type Viewing interface {
	TablesGiveViews() bool
}

// CacheSnapshot is the state of a Cache frozen at one moment (an asynchronous snapshot's
// synchronous phase): a view of the table, copies of the entries the cache had not written
// back yet, and the base entries still only in the base. Taking it costs a copy of the dirty
// entries and of the base's state bytes; Write then produces the entries from any goroutine
// while the cache goes on.
type CacheSnapshot struct {
	view   TableView
	dirty  []frozenEntry
	tier   frozenTier // the second tier's dirty records
	base   *Base      // shares offs and the mapping with the cache's base
	state  []uint8    // the base's state bytes at the freeze
	codec  Codec
	ttl    time.Duration
	now    int64
	closed bool
	// changed, for an incremental snapshot (SnapshotSince), is the keys written since the
	// earlier one.
	changed map[string]struct{}
}

// frozenEntry is a dirty cache entry at the freeze; values are immutable (Put replaces them).
type frozenEntry struct {
	key       string // cacheKey
	value     any
	writtenMs int64
	deleted   bool
}

// Snapshot freezes the cache's state. ok is false when the table gives no views: snapshot it
// synchronously (Flush, then Scan) instead.
func (c *Cache) Snapshot() (s *CacheSnapshot, ok bool) { return c.snapshot(nil) }

// snapshot is Snapshot; with changed set (an incremental snapshot) it freezes only the
// entries of those keys, the others being in the earlier snapshot as they are.
func (c *Cache) snapshot(changed map[string]struct{}) (s *CacheSnapshot, ok bool) {
	v, ok := c.table.(Viewer)
	if !ok {
		return nil, false
	}
	s = &CacheSnapshot{codec: c.codec, ttl: c.opts.TTL, now: c.opts.Now(), changed: changed}
	keep := keySet(changed)
	s.dirty = c.frozenDirty(keep)
	if c.tier != nil {
		s.tier = c.tier.freeze(keep)
	}
	if b := c.base; b != nil && changed == nil {
		b.m.Ref()
		s.base = &Base{m: b.m, offs: b.offs}
		s.state = slices.Clone(b.state)
	}
	// The view comes last: everything written back before this point is in it, and the cache
	// writes nothing until the caller returns to its work.
	s.view = v.View()
	return s, true
}

// frozenDirty copies the dirty entries of the decoded tier whose keys are in keep.
func (c *Cache) frozenDirty(keep keySet) []frozenEntry {
	freeze := func(e *cacheEntry) frozenEntry {
		return frozenEntry{key: e.key, value: e.value, writtenMs: e.writtenMs, deleted: e.deleted}
	}
	if keep != nil && len(keep) < len(c.dirty) {
		// Fewer keys to keep than dirty entries: look them up rather than walk the list.
		out := make([]frozenEntry, 0, len(keep))
		for k := range keep {
			if e := c.entries[k]; e != nil && e.dirty {
				out = append(out, freeze(e))
			}
		}
		return out
	}
	// One pass over the list: its entries are scattered over the heap, and most of the cost
	// is reaching them.
	out := make([]frozenEntry, 0, max(0, len(c.dirty)-c.stale))
	for _, e := range c.dirty {
		if e.dirty && keep.has(e.key) {
			out = append(out, freeze(e))
		}
	}
	return out
}

// keySet is the keys a snapshot freezes; nil holds every key.
type keySet map[string]struct{}

// has reports whether the set holds key.
func (k keySet) has(key string) bool {
	_, ok := k[key]
	return ok || k == nil
}

// hasBytes is has for a key in bytes.
func (k keySet) hasBytes(key []byte) bool {
	_, ok := k[string(key)]
	return ok || k == nil
}

// Write calls fn with every live entry of key groups [from, to) at the freeze, in (key group,
// key) order, with its stored value, and closes the snapshot: entries the cache had not
// written back override the table's (their deletes hide them), the base's untaken entries
// join in, and entries expired at the freeze are left out. The slices passed to fn are valid
// only during the call.
func (s *CacheSnapshot) Write(from, to uint16, fn func(kg uint16, key, stored []byte) error) error {
	defer s.Close()
	slices.SortFunc(s.dirty, func(a, b frozenEntry) int { return strings.Compare(a.key, b.key) })
	s.tier.sort()
	m := snapshotMerge{s: s, fn: fn, from: from, to: to}
	if s.base != nil {
		m.bi = s.base.find0(from)
	}
	if err := s.view.Scan(from, to, m.table); err != nil {
		return err
	}
	return m.upTo(to, nil, false)
}

// Close releases the view and the base (Write closes the snapshot itself).
func (s *CacheSnapshot) Close() {
	if s.closed {
		return
	}
	s.closed = true
	s.tier.release()
	s.view.Close()
	if s.base != nil {
		s.base.close()
	}
}

// snapshotMerge merges a snapshot's three sorted sources. The base's untaken entries are
// neither in the table nor in the cache; a dirty entry may replace a table entry.
type snapshotMerge struct {
	s        *CacheSnapshot
	fn       func(kg uint16, key, stored []byte) error
	from, to uint16
	di, ti   int    // next dirty entry of the decoded tier, of the second tier
	bi       int    // next base entry
	key, buf []byte // the key and stored form of a dirty entry
}

// table handles one entry of the table view.
func (m *snapshotMerge) table(kg uint16, key, value []byte) error {
	if err := m.upTo(kg, key, true); err != nil {
		return err
	}
	if m.di < len(m.s.dirty) {
		if e := &m.s.dirty[m.di]; e.kg() == kg && e.key[2:] == string(key) {
			m.di++
			return m.dirtyEntry(e) // the cache's newer value (or delete) wins
		}
	}
	if m.ti < m.s.tier.len() {
		if f, k, stored := m.s.tier.record(m.ti); cacheKeyKG(k) == kg && string(k[2:]) == string(key) {
			m.ti++
			return m.tierEntry(f, k, stored)
		}
	}
	return m.stored(kg, key, value)
}

// upTo emits the dirty and base entries that sort before (kg, key) (all of those below key
// group kg when !withKey).
func (m *snapshotMerge) upTo(kg uint16, key []byte, withKey bool) error {
	for {
		var d *frozenEntry
		if m.di < len(m.s.dirty) {
			d = &m.s.dirty[m.di]
			if !before(d.kg(), d.key[2:], kg, key, withKey) {
				d = nil
			}
		}
		var tf byte
		var tkey, tval []byte
		if m.ti < m.s.tier.len() {
			tf, tkey, tval = m.s.tier.record(m.ti)
			if !before(cacheKeyKG(tkey), string(tkey[2:]), kg, key, withKey) {
				tkey = nil
			}
		}
		// Cache keys order as (key group, key).
		if tkey != nil && (d == nil || string(tkey) < d.key) {
			d = nil // the second tier's entry comes first (the tiers hold different keys)
		} else {
			tkey = nil
		}
		bkg, bkey, bval, ok := m.nextBase()
		if ok && !before(bkg, string(bkey), kg, key, withKey) {
			ok = false
		}
		switch {
		case d != nil && (!ok || before(d.kg(), d.key[2:], bkg, bkey, true)):
			m.di++
			if err := m.dirtyEntry(d); err != nil {
				return err
			}
		case tkey != nil && (!ok || before(cacheKeyKG(tkey), string(tkey[2:]), bkg, bkey, true)):
			m.ti++
			if err := m.tierEntry(tf, tkey, tval); err != nil {
				return err
			}
		case ok:
			m.bi++
			if err := m.stored(bkg, bkey, bval); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// nextBase returns the next base entry still only in the base at the freeze.
func (m *snapshotMerge) nextBase() (kg uint16, key, value []byte, ok bool) {
	b := m.s.base
	if b == nil {
		return 0, nil, nil, false
	}
	for ; m.bi < len(b.offs); m.bi++ {
		if m.s.state[m.bi] != baseOnly {
			continue
		}
		kg, key, value = b.entry(m.bi)
		if kg >= m.to {
			m.bi = len(b.offs)
			return 0, nil, nil, false
		}
		return kg, key, value, true
	}
	return 0, nil, nil, false
}

// before reports whether (akg, akey) sorts before (kg, key), or akg before kg when !withKey.
func before(akg uint16, akey string, kg uint16, key []byte, withKey bool) bool {
	if akg != kg || !withKey {
		return akg < kg
	}
	return akey < string(key)
}

// dirtyEntry emits a frozen cache entry unless it is a delete.
func (m *snapshotMerge) dirtyEntry(e *frozenEntry) error {
	kg := e.kg()
	if e.deleted || kg < m.from || kg >= m.to {
		return nil
	}
	if Expired(m.s.ttl, e.writtenMs, m.s.now) {
		return nil
	}
	var err error
	m.buf = appendStoredHeader(m.buf[:0], m.s.ttl, e.writtenMs)
	if m.buf, err = m.s.codec.Append(m.buf, e.value); err != nil {
		return fmt.Errorf("encode key %x: %w", e.key[2:], err)
	}
	m.key = append(m.key[:0], e.key[2:]...)
	return m.fn(kg, m.key, m.buf)
}

// tierEntry emits a frozen record of the second tier unless it is a delete.
func (m *snapshotMerge) tierEntry(flags byte, key, stored []byte) error {
	kg := cacheKeyKG(key)
	if flags&recDeleted != 0 || kg < m.from || kg >= m.to {
		return nil
	}
	return m.stored(kg, key[2:], stored)
}

// stored emits an entry of the table or the base, unless it has expired.
func (m *snapshotMerge) stored(kg uint16, key, value []byte) error {
	if m.s.ttl > 0 {
		written, _, err := DecodeStored(m.s.ttl, value)
		if err != nil {
			return err
		}
		if Expired(m.s.ttl, written, m.s.now) {
			return nil
		}
	}
	return m.fn(kg, key, value)
}

// kg is the key group of a frozen entry.
func (e *frozenEntry) kg() uint16 { return cacheKeyKG(e.key) }

// cacheKeyKG is the key group of a cache key.
func cacheKeyKG[K string | []byte](k K) uint16 { return uint16(k[0])<<8 | uint16(k[1]) }

// find0 returns the index of the first entry of key group kg or later.
func (b *Base) find0(kg uint16) int { return searchFramed(b.m.data, b.offs, kg, nil) }
