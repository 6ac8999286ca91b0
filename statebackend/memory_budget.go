package statebackend

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrMemoryBudget is wrapped by the error of a write that makes the memory backend's state
// outgrow its share of the job's memory budget.
var ErrMemoryBudget = errors.New("the state outgrew its share of the memory budget")

// memEntryOverhead estimates what an entry of a memory table costs beside its key and value
// bytes: its map slot (key string and value slice headers, control bytes, load factor) and the
// allocation headroom of its two copies.
const memEntryOverhead = 64

func memEntryBytes(key, value int) int64 { return int64(memEntryOverhead + key + value) }

// memUsage counts the entries of a memory table and their estimated bytes.
type memUsage struct{ entries, bytes atomic.Int64 }

func (u *memUsage) add(entries, bytes int64) {
	u.entries.Add(entries)
	u.bytes.Add(bytes)
}

// reset zeroes the counts and returns what they were.
func (u *memUsage) reset() (entries, bytes int64) {
	return u.entries.Swap(0), u.bytes.Swap(0)
}

// memBudget is the memory backend's share of the job's budget and its estimated use.
type memBudget struct {
	limit int64 // 0: unbounded
	used  atomic.Int64
}

func (b *memBudget) add(bytes int64) { b.used.Add(bytes) }

// check returns an error wrapping ErrMemoryBudget when the state exceeds the budget. It names
// the table with the most entries among those of t's backend.
func (b *memBudget) check(t *memTable) error {
	if b.limit <= 0 || b.used.Load() <= b.limit {
		return nil
	}
	return b.overError(t)
}

// overError builds the over-budget error from t's backend.
func (b *memBudget) overError(t *memTable) error {
	top := t.owner.largestTable()
	entries, bytes := top.usage.entries.Load(), top.usage.bytes.Load()
	return fmt.Errorf("%w (about %s of %s): operator %q, state %q holds the most entries (%d, about %s); "+
		"give the job more memory (memory: in the pipeline file, or run --memory) or use state_backend: badger, which keeps state larger than memory on disk",
		ErrMemoryBudget, mib(b.used.Load()), mib(b.limit), top.id.UID, top.id.State, entries, mib(bytes))
}

// largestTable returns the table with the most entries (the first by uid and state of
// those with as many).
func (m *memory) largestTable() *memTable {
	ids, _ := m.Tables()
	m.mu.Lock()
	defer m.mu.Unlock()
	var top *memTable
	for _, id := range ids {
		if t := m.tables[id]; top == nil || t.usage.entries.Load() > top.usage.entries.Load() {
			top = t
		}
	}
	return top
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
