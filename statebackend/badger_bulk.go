package statebackend

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// BeginBulk implements BulkLoader with a Badger StreamWriter in incremental mode: the entries
// are written straight into SSTables one level above the data already there, in chunks (see
// chunkWriter), and the registry entries of the tables it creates are one more chunk. Badger
// requires an empty memtable for that, so BeginBulk returns ErrBulkUnavailable once the
// backend has taken any other write since it was opened Fresh. Entries get a version above
// every version stored, so they supersede the tombstones of a cleared table.
func (b *badgerBackend) BeginBulk() (Bulk, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("badger state backend: closed")
	}
	if b.wrote.Load() {
		return nil, fmt.Errorf("badger state backend: written to since it was opened fresh: %w", ErrBulkUnavailable)
	}
	sw := b.db.NewStreamWriter()
	if err := sw.PrepareIncremental(); err != nil {
		sw.Cancel()
		return nil, fmt.Errorf("badger bulk load: prepare: %w", err)
	}
	return &badgerBulk{b: b, sw: sw, chunks: newChunkWriter(sw, b.db.MaxVersion()+1)}, nil
}

// badgerBulk is a badger bulk session.
type badgerBulk struct {
	b       *badgerBackend
	sw      *badger.StreamWriter
	chunks  *chunkWriter
	writers []*badgerBulkWriter
	created []registryEntry // tables this session creates, registered by Flush
	loaded  map[uint32]bool
	done    bool
}

// Table implements Bulk.
func (s *badgerBulk) Table(uid, state string) (BulkWriter, error) {
	if s.done {
		return nil, errBulkDone
	}
	id := TableID{UID: uid, State: state}
	t, created := s.b.bulkTable(id)
	num := binary.BigEndian.Uint32(t.prefix[:])
	if s.loaded[num] {
		return nil, fmt.Errorf("bulk load %s/%s: table already loaded in this session", uid, state)
	}
	if created {
		s.created = append(s.created, registryEntry{registryKey(id), num})
	} else if err := t.iterate(0, allKeyGroups, func(uint16, *badger.Item) error {
		return fmt.Errorf("bulk load %s/%s: the table holds entries: %w", uid, state, ErrBulkUnavailable)
	}); err != nil {
		return nil, err
	}
	if s.loaded == nil {
		s.loaded = make(map[uint32]bool)
	}
	s.loaded[num] = true
	w := &badgerBulkWriter{s: s, t: t}
	s.writers = append(s.writers, w)
	return w, nil
}

// bulkTable returns the table of id, creating it in memory only (its registry entry is
// written by the bulk session).
func (b *badgerBackend) bulkTable(id TableID) (t *badgerTable, created bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.tables[id]; ok {
		return t, false
	}
	t = newBadgerTable(b.db, b.nextID, &b.wrote, b.filter)
	b.nextID++
	b.tables[id] = t
	return t, true
}

// Flush implements Bulk: it writes what is left of every table and the registry entries of
// the tables created, then lets the StreamWriter finish its SSTables and resume normal writes.
func (s *badgerBulk) Flush() error {
	if s.done {
		return errBulkDone
	}
	err := s.sendAll()
	if err == nil {
		err = s.chunks.wait()
	}
	if err != nil {
		s.Cancel()
		return err
	}
	s.done = true
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("badger bulk load: flush: %w", err)
	}
	return nil
}

// sendAll sends the last chunk of every table and the registry chunk.
func (s *badgerBulk) sendAll() error {
	for _, w := range s.writers {
		if w.chunk != nil {
			if err := s.chunks.send(w.chunk); err != nil {
				return err
			}
			w.chunk = nil
		}
	}
	if len(s.created) == 0 {
		return nil
	}
	slices.SortFunc(s.created, func(a, b registryEntry) int { return bytes.Compare(a.key, b.key) })
	var registry *chunk
	for _, e := range s.created {
		if err := s.chunks.add(&registry, e.key, binary.BigEndian.AppendUint32(nil, e.num)); err != nil {
			return err
		}
	}
	return s.chunks.send(registry)
}

// Cancel implements Bulk.
func (s *badgerBulk) Cancel() {
	if s.done {
		return
	}
	s.done = true
	for _, w := range s.writers {
		if w.chunk != nil {
			s.chunks.recycle(w.chunk.buf)
			w.chunk = nil
		}
	}
	_ = s.chunks.wait() // the session is abandoned: its errors no longer matter
	s.sw.Cancel()
}

// registryEntry is the registry key and id of a table created by a bulk session.
type registryEntry struct {
	key []byte
	num uint32
}

// badgerBulkWriter writes one table as consecutive chunks.
type badgerBulkWriter struct {
	s     *badgerBulk
	t     *badgerTable
	chunk *chunk // being filled, nil between chunks
	order orderCheck
	key   []byte // scratch database key
}

// Add implements BulkWriter.
func (w *badgerBulkWriter) Add(kg uint16, key, value []byte) error {
	if w.s.done {
		return errBulkDone
	}
	if err := w.order.next(kg, key); err != nil {
		return err
	}
	w.key = w.t.appendKey(w.key[:0], kg, key)
	w.t.filter.add(w.key)
	return w.s.chunks.add(&w.chunk, w.key, value)
}
