package statebackend

import (
	"cmp"
	"slices"
	"sync"
)

// memShards is the number of lock shards of a memory table; key group kg lives in shard
// kg % memShards, so subtasks owning disjoint key groups rarely contend.
const memShards = 64

// memory is the Go-maps backend.
type memory struct {
	mu     sync.Mutex
	tables map[TableID]*memTable
	budget memBudget
}

func newMemory(limit int64) *memory {
	return &memory{tables: make(map[TableID]*memTable), budget: memBudget{limit: limit}}
}

// Table implements Backend.
func (m *memory) Table(uid, state string) (Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := TableID{UID: uid, State: state}
	t, ok := m.tables[id]
	if !ok {
		t = &memTable{id: id, budget: &m.budget, owner: m}
		for i := range t.shards {
			t.shards[i].groups = make(map[uint16]map[string][]byte)
		}
		m.tables[id] = t
	}
	return t, nil
}

// Tables implements Backend.
func (m *memory) Tables() ([]TableID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]TableID, 0, len(m.tables))
	for id := range m.tables {
		ids = append(ids, id)
	}
	sortTableIDs(ids)
	return ids, nil
}

// Close implements Backend.
func (m *memory) Close() error { return nil }

// sortTableIDs sorts by uid, then state.
func sortTableIDs(ids []TableID) {
	slices.SortFunc(ids, func(a, b TableID) int {
		return cmp.Or(cmp.Compare(a.UID, b.UID), cmp.Compare(a.State, b.State))
	})
}

// memTable holds one table as a map per key group, sharded by key group under RW locks.
// Stored values are private copies and never modified, so readers may hold them unlocked.
type memTable struct {
	id     TableID
	owner  *memory
	budget *memBudget
	usage  memUsage // of this table
	shards [memShards]memShard
}

type memShard struct {
	mu     sync.RWMutex
	groups map[uint16]map[string][]byte
}

func (t *memTable) shard(kg uint16) *memShard { return &t.shards[kg%memShards] }

// Get implements Table.
func (t *memTable) Get(kg uint16, key []byte) ([]byte, bool, error) {
	s := t.shard(kg)
	s.mu.RLock()
	v, ok := s.groups[kg][string(key)]
	s.mu.RUnlock()
	return v, ok, nil
}

// Apply implements Table. It holds a shard's lock across consecutive mutations of that shard
// (a restore applies batches sorted by key group).
func (t *memTable) Apply(batch []Mutation) error {
	var locked *memShard
	for i := range batch {
		m := &batch[i]
		if s := t.shard(m.KG); s != locked {
			if locked != nil {
				locked.mu.Unlock()
			}
			s.mu.Lock()
			locked = s
		}
		entries, bytes := locked.apply(m)
		t.usage.add(entries, bytes)
		t.budget.add(bytes)
	}
	if locked != nil {
		locked.mu.Unlock()
	}
	return t.budget.check(t)
}

// apply performs one mutation and returns the change in entries and estimated bytes; the
// caller holds s.mu.
func (s *memShard) apply(m *Mutation) (entries, bytes int64) {
	g := s.groups[m.KG]
	old, had := g[string(m.Key)]
	if had {
		entries, bytes = -1, -memEntryBytes(len(m.Key), len(old))
	}
	if m.Delete {
		delete(g, string(m.Key))
		if g != nil && len(g) == 0 {
			delete(s.groups, m.KG)
		}
		return entries, bytes
	}
	if g == nil {
		g = make(map[string][]byte)
		s.groups[m.KG] = g
	}
	g[string(m.Key)] = append([]byte(nil), m.Value...)
	return entries + 1, bytes + memEntryBytes(len(m.Key), len(m.Value))
}

// Scan implements Table. Each key group is snapshotted under its shard's read lock and fn runs
// unlocked, so fn may call back into the table.
func (t *memTable) Scan(from, to uint16, fn func(kg uint16, key, value []byte) error) error {
	if from >= to {
		return nil
	}
	type entry struct {
		key   string
		value []byte
	}
	var entries []entry
	var keyBuf, valBuf []byte
	for _, kg := range t.groupsIn(from, to) {
		s := t.shard(kg)
		s.mu.RLock()
		entries = entries[:0]
		for k, v := range s.groups[kg] {
			entries = append(entries, entry{k, v})
		}
		s.mu.RUnlock()
		slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.key, b.key) })
		for _, e := range entries {
			// Copies keep the table's own bytes safe from a caller that writes to them.
			keyBuf = append(keyBuf[:0], e.key...)
			valBuf = append(valBuf[:0], e.value...)
			if err := fn(kg, keyBuf, valBuf); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupsIn returns the non-empty key groups in [from, to), sorted.
func (t *memTable) groupsIn(from, to uint16) []uint16 {
	var kgs []uint16
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for kg := range s.groups {
			if kg >= from && kg < to {
				kgs = append(kgs, kg)
			}
		}
		s.mu.RUnlock()
	}
	slices.Sort(kgs)
	return kgs
}

// Count implements Table.
func (t *memTable) Count() (entries, bytes int64, err error) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for _, g := range s.groups {
			for k, v := range g {
				entries++
				bytes += int64(len(k) + len(v))
			}
		}
		s.mu.RUnlock()
	}
	return entries, bytes, nil
}

// Clear implements Table.
func (t *memTable) Clear() error {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		clear(s.groups)
		s.mu.Unlock()
	}
	_, bytes := t.usage.reset()
	t.budget.add(-bytes)
	return nil
}
