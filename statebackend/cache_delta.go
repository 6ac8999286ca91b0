package statebackend

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Incremental snapshots. A cache can record the keys written after a snapshot (TrackChanges,
// right after that snapshot's freeze). A later snapshot that takes the record (SnapshotSince)
// then writes only those keys' values and copies every other entry from the earlier
// snapshot's data file as it is framed there (WriteDelta): its cost grows with the keys
// written in between, not with the state. A pit stop uses it: a savepoint taken while the
// job runs, then the stop's savepoint as a delta of it (docs/operations.md, The pit stop).

// changeSet is the keys a cache wrote since the snapshot epoch. Past limit keys it gives up
// (keys nil, full): the snapshot then writes everything.
type changeSet struct {
	epoch int64
	keys  map[string]struct{} // cache keys
	limit int
	full  bool
}

// trackedKeysPerByte is how many written keys a cache records for each byte of its budget
// before it gives up: a recorded key costs about 50 bytes beside the key itself, so the
// record stays within about a fifth of the cache's share.
const trackedKeysPerByte = 1.0 / 256

// minTrackedKeys is the record's limit for the smallest caches.
const minTrackedKeys = 4096

// TrackChanges makes the cache record every key written or deleted from now on, for a later
// SnapshotSince(epoch); it replaces any record in progress.
func (c *Cache) TrackChanges(epoch int64) {
	limit := max(minTrackedKeys, int(float64(c.opts.MaxBytes)*trackedKeysPerByte))
	c.changes = &changeSet{epoch: epoch, keys: make(map[string]struct{}), limit: limit}
}

// add records a written key.
func (cs *changeSet) add(key string) {
	if cs.full {
		return
	}
	if len(cs.keys) >= cs.limit {
		cs.full, cs.keys = true, nil
		return
	}
	cs.keys[key] = struct{}{}
}

// SnapshotSince is Snapshot that also takes the keys written since TrackChanges(epoch), when
// the cache recorded all of them: the snapshot is then Incremental. Recording ends either way.
func (c *Cache) SnapshotSince(epoch int64) (s *CacheSnapshot, ok bool) {
	cs := c.changes
	c.changes = nil
	if cs != nil && cs.epoch == epoch && !cs.full {
		return c.snapshot(cs.keys)
	}
	return c.Snapshot()
}

// Incremental reports whether the snapshot knows the keys written since an earlier snapshot,
// so that WriteDelta may write it.
func (s *CacheSnapshot) Incremental() bool { return s.changed != nil }

// WriteDelta is Write for an Incremental snapshot. prev holds the entries of key groups
// [from, to) of the earlier snapshot, framed as in a savepoint data file and in (key group,
// key) order starting at offsets starts of prev (a slice of a mapped data file). The written
// keys' values at the freeze go to fn (deleted and expired ones are left out); the runs of
// prev's entries between them go to run as they are: framed, a slice of prev, and starts, the
// offsets of its entries in prev. Entries of a state with a TTL go one by one to fn instead,
// so that those expired since the earlier snapshot are left out.
func (s *CacheSnapshot) WriteDelta(prev []byte, starts []uint32, from, to uint16,
	fn func(kg uint16, key, stored []byte) error, run func(framed []byte, starts []uint32) error) error {
	defer s.Close()
	if s.changed == nil {
		return fmt.Errorf("internal: WriteDelta of a snapshot that is not incremental")
	}
	changed := slices.Sorted(maps.Keys(s.changed))
	slices.SortFunc(s.dirty, func(a, b frozenEntry) int { return strings.Compare(a.key, b.key) })
	s.tier.sort()
	d := deltaMerge{snapshotMerge: snapshotMerge{s: s, fn: fn, from: from, to: to}, prev: prev, starts: starts, run: run}
	i := 0
	for _, k := range changed {
		kg := cacheKeyKG(k)
		if kg < from || kg >= to {
			continue
		}
		j := i + searchFramed(prev, starts[i:], kg, []byte(k[2:]))
		if err := d.copy(i, j); err != nil {
			return err
		}
		if j < len(starts) {
			if pkg, pkey, _ := DecodeFramed(prev[starts[j]:]); pkg == kg && string(pkey) == k[2:] {
				j++ // the written value replaces it
			}
		}
		i = j
		if err := d.current(k); err != nil {
			return err
		}
	}
	return d.copy(i, len(starts))
}

// deltaMerge merges an earlier snapshot's entries with the values of the keys written since.
type deltaMerge struct {
	snapshotMerge
	prev   []byte
	starts []uint32
	run    func(framed []byte, starts []uint32) error
}

// copy passes on the earlier snapshot's entries i to j (exclusive).
func (d *deltaMerge) copy(i, j int) error {
	if i >= j {
		return nil
	}
	if d.s.ttl > 0 {
		for _, off := range d.starts[i:j] {
			kg, key, value := DecodeFramed(d.prev[off:])
			if err := d.stored(kg, key, value); err != nil {
				return err
			}
		}
		return nil
	}
	end := d.starts[j-1] + uint32(FramedLen(d.prev[d.starts[j-1]:]))
	return d.run(d.prev[d.starts[i]:end], d.starts[i:j])
}

// current passes on the value of the cache key k at the freeze: the decoded tier's, the second
// tier's, or the table's (a written key is in one of them, or absent).
func (d *deltaMerge) current(k string) error {
	s := d.s
	if i, ok := slices.BinarySearchFunc(s.dirty, k, func(e frozenEntry, k string) int { return strings.Compare(e.key, k) }); ok {
		return d.dirtyEntry(&s.dirty[i])
	}
	if i, ok := s.tier.search([]byte(k)); ok {
		f, key, stored := s.tier.record(i)
		return d.tierEntry(f, key, stored)
	}
	kg := cacheKeyKG(k)
	value, ok, err := s.view.Get(kg, []byte(k[2:]))
	if err != nil || !ok {
		return err
	}
	return d.stored(kg, []byte(k[2:]), value)
}

// search finds the frozen record of cache key k in the sorted records.
func (z *frozenTier) search(k []byte) (int, bool) {
	return slices.BinarySearchFunc(z.recs, k, func(r frozenRecord, k []byte) int {
		_, key, _ := parseRecord(z.segs[r.seg][r.off:])
		return bytes.Compare(key, k)
	})
}

// FramedLen is the length of the entry framed at the start of p (as DecodeFramed reads it).
func FramedLen(p []byte) int {
	n := 0
	field := func(skip bool) {
		v, w := binary.Uvarint(p[n:])
		n += max(w, 0)
		if skip {
			n += int(v)
		}
	}
	field(false) // key group
	field(true)  // key
	field(true)  // value
	return min(n, len(p))
}
