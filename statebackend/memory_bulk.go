package statebackend

import "fmt"

// BeginBulk implements BulkLoader. A memory bulk load builds each key group's map once, sized
// exactly, with every key of the group sharing one string and every value one byte slice.
func (m *memory) BeginBulk() (Bulk, error) {
	return &memBulk{m: m, seen: make(map[TableID]bool)}, nil
}

// memBulk is a memory bulk session.
type memBulk struct {
	m       *memory
	seen    map[TableID]bool
	writers []*memBulkWriter
	done    bool
}

// Table implements Bulk.
func (b *memBulk) Table(uid, state string) (BulkWriter, error) {
	if b.done {
		return nil, errBulkDone
	}
	id := TableID{UID: uid, State: state}
	if b.seen[id] {
		return nil, fmt.Errorf("bulk load %s/%s: table already loaded in this session", uid, state)
	}
	t, err := b.m.Table(uid, state)
	if err != nil {
		return nil, err
	}
	mt := t.(*memTable)
	if n, _, _ := mt.Count(); n > 0 {
		return nil, fmt.Errorf("bulk load %s/%s: the table holds %d entries: %w", uid, state, n, ErrBulkUnavailable)
	}
	b.seen[id] = true
	w := &memBulkWriter{t: mt}
	b.writers = append(b.writers, w)
	return w, nil
}

// Flush implements Bulk: it stores each writer's last key group.
func (b *memBulk) Flush() error {
	if b.done {
		return errBulkDone
	}
	b.done = true
	for _, w := range b.writers {
		w.storeGroup()
	}
	if len(b.writers) > 0 {
		return b.writers[0].t.budget.check(b.writers[0].t)
	}
	return nil
}

// Cancel implements Bulk.
func (b *memBulk) Cancel() { b.done = true }

// memBulkWriter gathers the entries of the current key group, then stores them as one map.
type memBulkWriter struct {
	t     *memTable
	order orderCheck
	kg    uint16
	keys  []byte // the group's keys, back to back
	vals  []byte // the group's values, back to back
	ends  []int  // per entry: end of its key in keys, then end of its value in vals
}

// Add implements BulkWriter.
func (w *memBulkWriter) Add(kg uint16, key, value []byte) error {
	if err := w.order.next(kg, key); err != nil {
		return err
	}
	if kg != w.kg {
		w.storeGroup()
		if err := w.t.budget.check(w.t); err != nil {
			return err
		}
		w.kg = kg
	}
	w.keys = append(w.keys, key...)
	w.vals = append(w.vals, value...)
	w.ends = append(w.ends, len(w.keys), len(w.vals))
	return nil
}

// storeGroup puts the gathered key group into the table and empties the buffers. The group's
// keys become substrings of one string and its values capped subslices of one copy, so a group
// costs three allocations whatever its size.
func (w *memBulkWriter) storeGroup() {
	n := len(w.ends) / 2
	if n == 0 {
		return
	}
	keys, vals := string(w.keys), append([]byte(nil), w.vals...)
	g := make(map[string][]byte, n)
	k0, v0 := 0, 0
	for i := 0; i < len(w.ends); i += 2 {
		k1, v1 := w.ends[i], w.ends[i+1]
		g[keys[k0:k1]] = vals[v0:v1:v1]
		k0, v0 = k1, v1
	}
	s := w.t.shard(w.kg)
	s.mu.Lock()
	s.groups[w.kg] = g
	s.mu.Unlock()
	bytes := memEntryBytes(len(keys), len(vals)) + int64(n-1)*memEntryOverhead
	w.t.usage.add(int64(n), bytes)
	w.t.budget.add(bytes)
	w.keys, w.vals, w.ends = w.keys[:0], w.vals[:0], w.ends[:0]
}
