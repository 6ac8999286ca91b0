package statebackend

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// bulkBufferSize is the size of the buffer of encoded entries handed to the StreamWriter at
// once.
const bulkBufferSize = 4 << 20

// BeginBulk implements BulkLoader with a Badger StreamWriter in incremental mode: each table
// is one stream (its id is its table id, so streams never overlap) written straight into
// SSTables one level above the data already there, and the registry entries of the tables it
// creates are one more stream (registryID). Badger requires an empty memtable for that, so
// BeginBulk returns ErrBulkUnavailable once the backend has taken any other write since it was
// opened Fresh. Entries get a version above every version stored, so they supersede the
// tombstones of a cleared table.
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
	return &badgerBulk{
		b: b, sw: sw, version: b.db.MaxVersion() + 1,
		buf: z.NewBuffer(bulkBufferSize, "statebackend.bulk"),
	}, nil
}

// badgerBulk is a badger bulk session.
type badgerBulk struct {
	b       *badgerBackend
	sw      *badger.StreamWriter
	version uint64
	buf     *z.Buffer       // encoded entries not yet handed to sw
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
		return fmt.Errorf("bulk load %s/%s: the table holds entries", uid, state)
	}); err != nil {
		return nil, err
	}
	if s.loaded == nil {
		s.loaded = make(map[uint32]bool)
	}
	s.loaded[num] = true
	return &badgerBulkWriter{s: s, t: t, stream: num}, nil
}

// bulkTable returns the table of id, creating it in memory only (its registry entry is
// written by the bulk session).
func (b *badgerBackend) bulkTable(id TableID) (t *badgerTable, created bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.tables[id]; ok {
		return t, false
	}
	t = newBadgerTable(b.db, b.nextID, &b.wrote)
	b.nextID++
	b.tables[id] = t
	return t, true
}

// add encodes one entry of a stream, handing the buffer to the StreamWriter when it is full.
func (s *badgerBulk) add(stream uint32, key, value []byte) error {
	appendStreamKV(s.buf, stream, s.version, key, value)
	if s.buf.LenNoPadding() < bulkBufferSize {
		return nil
	}
	return s.write()
}

// write hands the buffered entries to the StreamWriter (which copies them) and empties the
// buffer.
func (s *badgerBulk) write() error {
	err := s.sw.Write(s.buf)
	s.buf.Reset()
	if err != nil {
		return fmt.Errorf("badger bulk load: %w", err)
	}
	return nil
}

// Flush implements Bulk: it writes the registry entries of the tables created, then lets the
// StreamWriter finish its SSTables and resume normal writes.
func (s *badgerBulk) Flush() error {
	if s.done {
		return errBulkDone
	}
	slices.SortFunc(s.created, func(a, b registryEntry) int { return bytes.Compare(a.key, b.key) })
	for _, e := range s.created {
		if err := s.add(registryID, e.key, binary.BigEndian.AppendUint32(nil, e.num)); err != nil {
			s.Cancel()
			return err
		}
	}
	if err := s.write(); err != nil {
		s.Cancel()
		return err
	}
	s.done = true
	defer s.release()
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("badger bulk load: flush: %w", err)
	}
	return nil
}

// Cancel implements Bulk.
func (s *badgerBulk) Cancel() {
	if s.done {
		return
	}
	s.done = true
	s.sw.Cancel()
	s.release()
}

func (s *badgerBulk) release() {
	if err := s.buf.Release(); err != nil {
		s.b.db.Opts().Logger.Errorf("badger bulk load: release buffer: %v", err)
	}
}

// registryEntry is the registry key and id of a table created by a bulk session.
type registryEntry struct {
	key []byte
	num uint32
}

// badgerBulkWriter writes one table as one stream.
type badgerBulkWriter struct {
	s      *badgerBulk
	t      *badgerTable
	stream uint32
	order  orderCheck
	key    []byte // scratch database key
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
	return w.s.add(w.stream, w.key, value)
}
