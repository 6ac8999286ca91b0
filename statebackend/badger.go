package statebackend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Key layout sizes (see doc.go).
const (
	tableIDLen  = 4
	kgLen       = 2
	entryPrefix = tableIDLen + kgLen
)

// registryID is the reserved table id under which the table registry lives.
const registryID uint32 = 0

// badgerBackend keeps every table of a job in one Badger database.
type badgerBackend struct {
	db *badger.DB

	mu     sync.Mutex // guards tables, nextID and closed
	tables map[TableID]*badgerTable
	nextID uint32
	closed bool
	// wrote is set by every write other than a bulk load since the database was opened
	// fresh (and from the start when it was not): a bulk load needs an empty memtable.
	wrote atomic.Bool
	trim  *residentTrimmer // nil without a resident limit
	// filter knows the keys written since the database was created empty (nil when it was
	// opened with its entries).
	filter *writtenFilter
}

// DefaultBadgerMemory is the memory share badger is sized for when Options.Memory is zero.
const DefaultBadgerMemory = 128 << 20

// badgerOptions tunes Badger for many small entries within a memory share (see
// docs/memory.md for the measurements behind it):
//
//   - Two memtables of 1/8 of the share each (2 MiB to 64 MiB): a memtable is a Go-heap arena
//     plus a write-ahead file of the same size, so they are the largest fixed cost.
//   - Table indexes and bloom filters live in an index cache of 1/4 of the share, so they
//     stay bounded however large the state grows; the bloom filters let a read of an absent
//     key skip every table that cannot hold it.
//   - Nothing is compressed, so no block cache is needed (the mmapped tables sit in the OS
//     page cache, and Badger documents a block cache without compression as pure overhead).
//   - Values stay in the LSM tree up to 1/16 of a memtable (at most 1 MiB); larger ones go to
//     the value log, so one large value cannot crowd a small memtable.
//   - Tables are half a memtable, the same size at every level: a StreamWriter (bulk load)
//     sizes its tables for the last level and its table builder allocates twice that up
//     front, which with Badger's default multiplier (2) is 256 MiB per stream.
//   - Two compactors match two cores. Only Badger's errors are logged.
func badgerOptions(dir string, share int64) badger.Options {
	if share <= 0 {
		share = DefaultBadgerMemory
	}
	memtable := min(max(share/8, 2<<20), 64<<20)
	o := badger.DefaultOptions(dir).
		WithLoggingLevel(badger.ERROR).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(share / 4).
		WithValueThreshold(min(memtable/16, 1<<20)).
		WithMemTableSize(memtable).
		WithNumMemtables(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithBaseTableSize(max(memtable/2, 1<<20)).
		WithBaseLevelSize(64 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithNumGoroutines(2)
	o.TableSizeMultiplier = 1
	return o
}

func openBadger(opts Options) (*badgerBackend, error) {
	if opts.Dir == "" {
		return nil, errors.New("badger state backend: no directory")
	}
	if opts.Fresh {
		if err := emptyDir(opts.Dir); err != nil {
			return nil, fmt.Errorf("badger state backend: empty %s: %w", opts.Dir, err)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("badger state backend: %w", err)
	}
	db, err := badger.Open(badgerOptions(opts.Dir, opts.Memory))
	if err != nil {
		return nil, fmt.Errorf("badger state backend: open %s: %w", opts.Dir, err)
	}
	b := &badgerBackend{db: db, tables: make(map[TableID]*badgerTable), nextID: registryID + 1}
	b.wrote.Store(!opts.Fresh)
	if opts.Fresh {
		share := opts.Memory
		if share <= 0 {
			share = DefaultBadgerMemory
		}
		b.filter = newWrittenFilter(share / filterShare)
	}
	if err := b.loadRegistry(); err != nil {
		return nil, errors.Join(fmt.Errorf("badger state backend: %s: %w", opts.Dir, err), db.Close())
	}
	if abs, err := filepath.Abs(opts.Dir); err == nil {
		b.trim = startTrimmer(abs, opts.ResidentLimit)
	}
	return b, nil
}

// emptyDir removes everything inside dir (not dir itself, which may be a mount point or
// carry permissions the user chose). A missing dir is empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// registryKey is the registry entry of a table: reserved id, then uvarint(len(uid)), uid,
// state (the length keeps "a"+"bc" apart from "ab"+"c").
func registryKey(id TableID) []byte {
	k := binary.BigEndian.AppendUint32(nil, registryID)
	k = binary.AppendUvarint(k, uint64(len(id.UID)))
	k = append(k, id.UID...)
	return append(k, id.State...)
}

func parseRegistryKey(k []byte) (TableID, error) {
	rest := k[tableIDLen:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return TableID{}, fmt.Errorf("corrupt table registry key %x", k)
	}
	rest = rest[w:]
	return TableID{UID: string(rest[:n]), State: string(rest[n:])}, nil
}

// loadRegistry reads the tables of an existing database.
func (b *badgerBackend) loadRegistry() error {
	prefix := binary.BigEndian.AppendUint32(nil, registryID)
	return b.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			id, err := parseRegistryKey(item.Key())
			if err != nil {
				return err
			}
			var num uint32
			if err := item.Value(func(v []byte) error {
				if len(v) != tableIDLen {
					return fmt.Errorf("corrupt table registry entry for %s/%s", id.UID, id.State)
				}
				num = binary.BigEndian.Uint32(v)
				return nil
			}); err != nil {
				return err
			}
			b.tables[id] = newBadgerTable(b.db, num, &b.wrote, b.filter)
			b.nextID = max(b.nextID, num+1)
		}
		return nil
	})
}

// Table implements Backend.
func (b *badgerBackend) Table(uid, state string) (Table, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("badger state backend: closed")
	}
	id := TableID{UID: uid, State: state}
	if t, ok := b.tables[id]; ok {
		return t, nil
	}
	num := b.nextID
	b.wrote.Store(true)
	err := b.db.Update(func(txn *badger.Txn) error {
		return txn.Set(registryKey(id), binary.BigEndian.AppendUint32(nil, num))
	})
	if err != nil {
		return nil, fmt.Errorf("create state table %s/%s: %w", uid, state, err)
	}
	b.nextID++
	t := newBadgerTable(b.db, num, &b.wrote, b.filter)
	b.tables[id] = t
	return t, nil
}

// Tables implements Backend.
func (b *badgerBackend) Tables() ([]TableID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]TableID, 0, len(b.tables))
	for id := range b.tables {
		ids = append(ids, id)
	}
	sortTableIDs(ids)
	return ids, nil
}

// Close implements Backend. A second Close does nothing.
func (b *badgerBackend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.trim.close()
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("close badger state backend: %w", err)
	}
	return nil
}

// Discard implements Discarder: it drops every entry first, so that closing writes nothing
// (Close would flush the memtables to disk — work thrown away for live state that is never
// reused), then closes the database and removes its directory.
func (b *badgerBackend) Discard() error {
	b.mu.Lock()
	if !b.closed {
		if err := b.db.DropAll(); err != nil {
			b.mu.Unlock()
			return fmt.Errorf("discard badger state backend: %w", err)
		}
	}
	b.mu.Unlock()
	if err := b.Close(); err != nil {
		return err
	}
	return os.RemoveAll(b.db.Opts().Dir)
}
