package statebackend

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// badgerTable is one table: every key starts with its 4-byte id.
type badgerTable struct {
	db     *badger.DB
	prefix [tableIDLen]byte
	wrote  *atomic.Bool   // the backend's: set by every write
	filter *writtenFilter // the backend's: nil unless the database was created empty
}

func newBadgerTable(db *badger.DB, id uint32, wrote *atomic.Bool, filter *writtenFilter) *badgerTable {
	t := &badgerTable{db: db, wrote: wrote, filter: filter}
	binary.BigEndian.PutUint32(t.prefix[:], id)
	return t
}

// markWritten records a write that is not a bulk load (loading first keeps the shared flag's
// cache line clean for the subtasks that write concurrently).
func (t *badgerTable) markWritten() {
	if !t.wrote.Load() {
		t.wrote.Store(true)
	}
}

// appendKey appends the database key of (kg, key) to dst.
func (t *badgerTable) appendKey(dst []byte, kg uint16, key []byte) []byte {
	dst = append(dst, t.prefix[:]...)
	dst = binary.BigEndian.AppendUint16(dst, kg)
	return append(dst, key...)
}

// Get implements Table with one read transaction (the Cache reaches it only on a miss), unless
// the key was never written.
func (t *badgerTable) Get(kg uint16, key []byte) (value []byte, ok bool, err error) {
	err = t.db.View(func(txn *badger.Txn) error {
		value, ok, err = t.getTxn(txn, kg, key)
		return err
	})
	return value, ok, err
}

// getTxn is Get inside the read transaction txn.
func (t *badgerTable) getTxn(txn *badger.Txn, kg uint16, key []byte) ([]byte, bool, error) {
	var buf [64]byte
	if !t.filter.mayHave(t.appendKey(buf[:0], kg, key)) {
		return nil, false, nil
	}
	item, err := txn.Get(t.appendKey(make([]byte, 0, entryPrefix+len(key)), kg, key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	var v []byte
	if err == nil {
		v, err = item.ValueCopy(nil)
	}
	if err != nil {
		return nil, false, fmt.Errorf("state get: %w", err)
	}
	return v, true, nil
}

// applyChunk is the number of entries per transaction of an Apply.
const applyChunk = 2048

// Apply implements Table. It works like a Badger WriteBatch, with smaller transactions: each
// chunk of applyChunk entries (fewer if they would exceed Badger's transaction size) is
// committed asynchronously while the next one is being built, so on two cores the caller and
// Badger's writer goroutine run in parallel. Apply returns once every chunk is written; like
// a WriteBatch it is not atomic. The database keys of the whole batch share one allocation,
// and so do its entries.
func (t *badgerTable) Apply(batch []Mutation) error {
	if len(batch) == 0 {
		return nil
	}
	t.markWritten()
	size := 0
	for i := range batch {
		size += entryPrefix + len(batch[i].Key)
	}
	keys := make([]byte, 0, size)
	entries := make([]badger.Entry, len(batch))
	for i := range batch {
		m := &batch[i]
		start := len(keys)
		keys = t.appendKey(keys, m.KG, m.Key)
		entries[i].Key = keys[start:len(keys):len(keys)]
		entries[i].Value = m.Value
		if !m.Delete {
			t.filter.add(entries[i].Key)
		}
	}
	c := newCommitter(t.db)
	for _, i := range keyOrder(batch, entries) {
		if err := c.add(&entries[i], batch[i].Delete); err != nil {
			return fmt.Errorf("state apply: %w", errors.Join(err, c.wait()))
		}
	}
	if err := c.wait(); err != nil {
		return fmt.Errorf("state apply: %w", err)
	}
	return nil
}

// sortedApply is the size from which Apply writes a batch in key order: inserting keys in
// order into Badger's memtable (a skiplist) finds each one's place next to the last one's,
// in memory the processor has just read, where random keys each take a walk through memory
// it has not.
const sortedApply = 64

// keyOrder returns the order in which Apply writes the entries: by key (the order of the batch
// between mutations of the same key) for a batch of sortedApply or more, else the batch's.
func keyOrder(batch []Mutation, entries []badger.Entry) []int32 {
	order := make([]int32, len(batch))
	for i := range order {
		order[i] = int32(i)
	}
	if len(batch) >= sortedApply {
		slices.SortStableFunc(order, func(a, b int32) int { return bytes.Compare(entries[a].Key, entries[b].Key) })
	}
	return order
}

// iterate calls fn for every live item of the table whose key group is in [from, to), in
// key order, inside one read transaction. to may be 1<<16 (allKeyGroups).
func (t *badgerTable) iterate(from uint16, to int, fn func(kg uint16, item *badger.Item) error) error {
	if int(from) >= to {
		return nil
	}
	return t.db.View(func(txn *badger.Txn) error { return t.iterateTxn(txn, from, to, fn) })
}

// iterateTxn is iterate inside the read transaction txn.
func (t *badgerTable) iterateTxn(txn *badger.Txn, from uint16, to int, fn func(kg uint16, item *badger.Item) error) error {
	// Values live in the LSM, so reading them in place beats prefetching copies.
	it := txn.NewIterator(badger.IteratorOptions{Prefix: t.prefix[:]})
	defer it.Close()
	var seek [entryPrefix]byte
	t.appendKey(seek[:0], from, nil)
	for it.Seek(seek[:]); it.Valid(); it.Next() {
		item := it.Item()
		kg := binary.BigEndian.Uint16(item.Key()[tableIDLen:])
		if int(kg) >= to {
			return nil
		}
		if err := fn(kg, item); err != nil {
			return err
		}
	}
	return nil
}

// Scan implements Table.
func (t *badgerTable) Scan(from, to uint16, fn func(kg uint16, key, value []byte) error) error {
	return t.iterate(from, int(to), func(kg uint16, item *badger.Item) error {
		return item.Value(func(v []byte) error { return fn(kg, item.Key()[entryPrefix:], v) })
	})
}

// allKeyGroups is the end of the range of every key group.
const allKeyGroups = 1 << 16

// Count implements Table by iteration.
func (t *badgerTable) Count() (entries, bytes int64, err error) {
	err = t.iterate(0, allKeyGroups, func(_ uint16, item *badger.Item) error {
		entries++
		bytes += int64(len(item.Key()) - entryPrefix)
		return item.Value(func(v []byte) error {
			bytes += int64(len(v))
			return nil
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("state count: %w", err)
	}
	return entries, bytes, nil
}

// Clear implements Table: it deletes every key of the table in one write batch.
func (t *badgerTable) Clear() error {
	t.markWritten()
	wb := t.db.NewWriteBatch()
	defer wb.Cancel()
	err := t.iterate(0, allKeyGroups, func(_ uint16, item *badger.Item) error {
		return wb.Delete(item.KeyCopy(nil))
	})
	if err == nil {
		err = wb.Flush()
	}
	if err != nil {
		return fmt.Errorf("state clear: %w", err)
	}
	return nil
}

// TablesGiveViews implements Viewing.
func (b *badgerBackend) TablesGiveViews() bool { return true }

// View implements Viewer with a read transaction: Badger's transactions are snapshots.
func (t *badgerTable) View() TableView { return &badgerView{t: t, txn: t.db.NewTransaction(false)} }

// badgerView is a badger table as of the moment its read transaction started.
type badgerView struct {
	t   *badgerTable
	txn *badger.Txn
}

// Scan implements TableView.
func (v *badgerView) Scan(from, to uint16, fn func(kg uint16, key, value []byte) error) error {
	if from >= to {
		return nil
	}
	return v.t.iterateTxn(v.txn, from, int(to), func(kg uint16, item *badger.Item) error {
		return item.Value(func(val []byte) error { return fn(kg, item.Key()[entryPrefix:], val) })
	})
}

// Get implements TableView.
func (v *badgerView) Get(kg uint16, key []byte) ([]byte, bool, error) {
	return v.t.getTxn(v.txn, kg, key)
}

// Close implements TableView.
func (v *badgerView) Close() { v.txn.Discard() }
