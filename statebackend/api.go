package statebackend

import "fmt"

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

// Discarder is implemented by backends that can throw their state away faster than Close
// can keep it: live state is rebuilt from savepoints and checkpoints, never reused, so a job
// ending discards its backend (badger: no memtable flush; the directory is removed).
type Discarder interface {
	Discard() error
}

// TableID names a table.
type TableID struct{ UID, State string }

// Table is the entries of one state. Methods are safe for concurrent use on disjoint key
// groups.
type Table interface {
	// Get returns the value stored under (kg, key). The returned slice must not be modified
	// and is valid until the next call on the table.
	Get(kg uint16, key []byte) (value []byte, ok bool, err error)
	// Apply writes a batch of mutations (for badger: a few large transactions pipelined like
	// a write batch, never a transaction per entry; not atomic). Mutations apply in order;
	// Apply does not retain the batch's slices.
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
	Kind string // "badger" (also when empty) or "memory"
	Dir  string // badger: the database directory (created; emptied first when Fresh)
	// Fresh discards whatever the directory holds: live state always starts from empty,
	// a savepoint or a checkpoint.
	Fresh bool
	// Memory is the backend's share of the job's memory budget in bytes. badger sizes its
	// memtables and caches from it (0: DefaultBadgerMemory); memory fails writes that make
	// the state outgrow it with an error wrapping ErrMemoryBudget (0: unbounded).
	Memory int64
	// ResidentLimit, for badger, is the process's resident memory (the job's whole budget)
	// above which the pages of the database's memory-mapped tables and value log are given
	// back to the kernel, so that state larger than memory does not grow the process with
	// it (0: never).
	ResidentLimit int64
}

// Backend kinds accepted by Open.
const (
	KindBadger = "badger"
	KindMemory = "memory"
)

// Open opens a backend of the given kind.
func Open(opts Options) (Backend, error) {
	switch opts.Kind {
	case KindBadger, "":
		return openBadger(opts)
	case KindMemory:
		return newMemory(opts.Memory), nil
	default:
		return nil, fmt.Errorf("state backend %q: unknown kind (want %s or %s)", opts.Kind, KindBadger, KindMemory)
	}
}

// Codec converts a state's canonical values to and from bytes (schema.Type satisfies it via
// an adapter in the runtime).
type Codec interface {
	Append(dst []byte, v any) ([]byte, error)
	Decode(b []byte) (any, error)
}
