// Package statebackend stores keyed state: tables named by operator uid and state name, whose
// entries are addressed by key group and key bytes. Two backends hold exactly the same
// semantics: badger (embedded Badger v4, on disk) and memory (Go maps). A write-back Cache of
// decoded values sits in front of a table so that the per-record path never opens a Badger
// transaction. One conformance suite (conformance_test.go) runs against every backend.
package statebackend

// This file lists the package's API as used by the rest of pipectl. Bodies marked
// "unimplemented" are being written; keep the signatures and contracts.

import "time"

// Backend holds the keyed state of one job. It is safe for concurrent use: subtasks share one
// backend and touch disjoint key groups.
type Backend interface {
	// Table returns the table of one state, creating it on first use.
	Table(uid, state string) (Table, error)
	// Tables lists every table created so far, sorted by uid then state.
	Tables() ([]TableID, error)
	// Close releases the backend (for badger: closes the database).
	Close() error
}

// TableID names a table.
type TableID struct{ UID, State string }

// Table is the entries of one state. Methods are safe for concurrent use on disjoint key
// groups.
type Table interface {
	// Get returns the value stored under (kg, key). The returned slice must not be modified
	// and is valid until the next call on the table.
	Get(kg uint16, key []byte) (value []byte, ok bool, err error)
	// Apply writes a batch of mutations (one Badger write batch, never a transaction per
	// entry).
	Apply(batch []Mutation) error
	// Scan calls fn for every entry whose key group is in [from, to), ordered by key group and
	// then by key bytes. The slices are valid only during the call.
	Scan(from, to uint16, fn func(kg uint16, key, value []byte) error) error
	// Count returns the number of entries and their total key+value bytes.
	Count() (entries int64, bytes int64, err error)
	// Clear removes every entry.
	Clear() error
}

// Mutation is a put (Delete false) or a delete of one entry.
type Mutation struct {
	KG     uint16
	Key    []byte
	Value  []byte
	Delete bool
}

// Options configure a backend.
type Options struct {
	Kind string // "badger" or "memory"
	Dir  string // badger: the database directory (created; emptied first when Fresh)
	// Fresh discards whatever the directory holds: live state always starts from empty,
	// a savepoint or a checkpoint.
	Fresh bool
}

// Open opens a backend of the given kind.
func Open(opts Options) (Backend, error) { panic("unimplemented") }

// Codec converts a state's canonical values to and from bytes (schema.Type satisfies it via
// an adapter in the runtime).
type Codec interface {
	Append(dst []byte, v any) ([]byte, error)
	Decode(b []byte) (any, error)
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Capacity is the number of entries held before dirty ones are flushed and the cache is
	// emptied (default 65536).
	Capacity int
	// TTL expires entries not written for that long (0: never). Expiry is by processing time:
	// the write time is stored with the value, so downtime counts.
	TTL time.Duration
	// Now returns the processing time in Unix milliseconds (default: the wall clock).
	Now func() int64
}

// Cache is a write-back cache of decoded values in front of one table, owned by one subtask
// (not safe for concurrent use). Reads hit the cache; writes mark entries dirty; Flush writes
// all dirty entries to the table in one Apply.
type Cache struct{}

// NewCache returns a cache in front of t.
func NewCache(t Table, c Codec, opts CacheOptions) *Cache { panic("unimplemented") }

// Get returns the value of (kg, key); ok is false when absent or expired.
func (c *Cache) Get(kg uint16, key []byte) (v any, ok bool, err error) { panic("unimplemented") }

// Put sets the value of (kg, key).
func (c *Cache) Put(kg uint16, key []byte, v any) error { panic("unimplemented") }

// Delete removes (kg, key).
func (c *Cache) Delete(kg uint16, key []byte) error { panic("unimplemented") }

// Flush writes every dirty entry to the table.
func (c *Cache) Flush() error { panic("unimplemented") }

// EncodeStored and DecodeStored convert between a value's codec bytes and the bytes a table
// stores for a state with the given TTL (with TTL, the write time in Unix ms is kept in front
// of the value). Savepoints use them to write and restore entries without the cache.
func EncodeStored(dst []byte, ttl time.Duration, writtenMs int64, value []byte) []byte {
	panic("unimplemented")
}

// DecodeStored splits stored bytes into the write time (0 without TTL) and the value bytes.
func DecodeStored(ttl time.Duration, stored []byte) (writtenMs int64, value []byte, err error) {
	panic("unimplemented")
}
