package statebackend

import "fmt"

// SetBase puts b under the cache: a miss that finds a key b still serves takes its value
// from b, and LoadBase copies the rest of b into the table. The table must not hold any key
// of b. The cache owns b from then on.
func (c *Cache) SetBase(b *Base) {
	if c.base != nil {
		c.base.close()
	}
	c.base = b
	if b != nil && b.Len() == 0 {
		c.dropBase()
	}
}

// BaseLoading reports whether entries of the base remain to be loaded into the table.
func (c *Cache) BaseLoading() bool { return c.base != nil }

// LoadBase copies up to limit entries of the base that are still only in the base into the
// table, in one Apply, and reports whether any remain. Once every entry is in the table (or
// was taken by the cache) the base is dropped and its memory released when no snapshot uses
// it. On error nothing is marked loaded: the next call retries.
func (c *Cache) LoadBase(limit int) (more bool, err error) {
	b := c.base
	if b == nil {
		return false, nil
	}
	start, end := b.next, b.next
	batch := c.batch[:0]
	for ; end < len(b.offs) && len(batch) < limit; end++ {
		if b.state[end] != baseOnly {
			continue
		}
		kg, key, value := b.entry(end)
		batch = append(batch, Mutation{KG: kg, Key: key, Value: value})
	}
	if len(batch) > 0 {
		err = c.table.Apply(batch)
	}
	clear(batch)
	c.batch = batch[:0]
	if err != nil {
		return true, fmt.Errorf("state load from savepoint: %w", err)
	}
	for i := start; i < end; i++ {
		if b.state[i] == baseOnly {
			b.state[i] = baseLoaded
		}
	}
	b.next = end
	if end == len(b.offs) {
		c.dropBase()
		return false, nil
	}
	return true, nil
}

// dropBase forgets the base.
func (c *Cache) dropBase() {
	c.base.close()
	c.base = nil
}

// Dirty reports whether entries wait to be written back.
func (c *Cache) Dirty() bool {
	return len(c.dirty) > c.stale || c.tier != nil && c.tier.dirty > 0
}

// WriteBackSome writes back the oldest dirty entries, up to limit, in few Applies and reports
// whether any remain: an idle instance writes its cache back in steps, so that a snapshot
// finds few dirty entries to freeze and the table holds the rest.
func (c *Cache) WriteBackSome(limit int) (more bool, err error) {
	n := min(limit, len(c.dirty))
	head := c.dirty[:n]
	stale := 0
	for _, e := range head {
		if !e.dirty {
			stale++
		}
	}
	if err := c.writeBack(head); err != nil {
		return true, fmt.Errorf("state cache write-back: %w", err)
	}
	clear(head)
	c.dirty = c.dirty[n:]
	c.stale = max(c.stale-stale, 0)
	if len(c.dirty) == 0 {
		c.dirty, c.stale = nil, 0
	}
	if c.tier != nil && n < limit {
		if _, err := c.tier.writeBackDirty(limit - n); err != nil {
			return true, fmt.Errorf("state cache write-back: %w", err)
		}
	}
	return c.Dirty(), nil
}
