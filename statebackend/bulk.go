package statebackend

import (
	"bytes"
	"errors"
	"fmt"
)

// BulkLoader is an optional capability of a Backend: loading entries that arrive sorted into
// tables that hold none, much faster than Apply (badger writes its SSTables directly instead
// of going through transactions, the memtable and the write-ahead log). A restore into a fresh
// backend uses it; callers fall back to Table and Apply when a backend does not implement it
// or BeginBulk returns ErrBulkUnavailable.
type BulkLoader interface {
	// BeginBulk starts a bulk load session. It returns an error wrapping ErrBulkUnavailable
	// when the backend cannot bulk-load in its current state (badger: it has taken writes
	// other than bulk loads since it was opened Fresh); Apply still works then.
	BeginBulk() (Bulk, error)
}

// ErrBulkUnavailable reports that a backend cannot bulk-load now: use Apply instead.
var ErrBulkUnavailable = errors.New("bulk load unavailable")

// Bulk is one bulk load session. Its contract:
//
//   - Nothing else uses the backend from BeginBulk until Flush or Cancel returns: no Table,
//     Get, Apply, Scan, Count or Clear on any table, and no second session (badger blocks
//     writes and swaps its timestamp oracle meanwhile).
//   - Every table loaded holds no entries when the session starts (Table refuses one that
//     does with an error wrapping ErrBulkUnavailable: load it with Apply).
//   - The entries of each table arrive in strictly increasing (key group, key bytes) order
//     (Add refuses any other).
//   - A Bulk and its writers are used by one goroutine.
//
// After Flush the entries are ordinary entries of their tables: Get, Scan, Count, Apply, Clear
// and a Cache see them exactly as if they had been applied. After Cancel (or a failed Flush)
// the loaded tables hold an unspecified subset of the entries added: discard the backend.
type Bulk interface {
	// Table returns the writer of one table, creating the table (registered even if it gets no
	// entries) when it does not exist. Calling it twice for a table is an error.
	Table(uid, state string) (BulkWriter, error)
	// Flush ends the session and makes every entry added visible.
	Flush() error
	// Cancel abandons the session; it does nothing after Flush or a previous Cancel.
	Cancel()
}

// BulkWriter adds the entries of one table during a Bulk session.
type BulkWriter interface {
	// Add adds one entry; its (kg, key) must sort strictly after the previous entry's. Add
	// does not retain key or value.
	Add(kg uint16, key, value []byte) error
}

// errBulkDone is returned by a Bulk used after Flush or Cancel.
var errBulkDone = errors.New("bulk load: session already ended")

// orderCheck enforces the strictly increasing (key group, key) order of a BulkWriter.
type orderCheck struct {
	started bool
	kg      uint16
	key     []byte
}

// next accepts (kg, key) when it sorts after the previous entry and remembers it.
func (c *orderCheck) next(kg uint16, key []byte) error {
	if c.started && (kg < c.kg || kg == c.kg && bytes.Compare(key, c.key) <= 0) {
		return fmt.Errorf("bulk load: entry (key group %d, key %x) does not sort after (key group %d, key %x)", kg, key, c.kg, c.key)
	}
	c.started, c.kg, c.key = true, kg, append(c.key[:0], key...)
	return nil
}
