// Package savepoints is the on-disk savepoint format: an atomic writer, a verifying reader,
// and what `pipectl inspect` and `pipectl dump` show of a savepoint.
//
// # Directory layout
//
// A savepoint is a directory. It is written under a hidden name in the savepoint dir and
// renamed into place only once every file in it is complete and synced, so a crash or a kill
// mid-write never leaves a directory that looks like a savepoint:
//
//	savepoints/                                the savepoint dir (DIR, --savepoint-dir, savepoint_dir:)
//	├── .savepoint-0a1b2c-5f3e9d2c41aa/        being written: hidden, refused by Open, removed on failure
//	│   └── state-0001.bin
//	└── savepoint-0a1b2c-8c2d4e6f0a13/         complete: the savepoint's path and ID
//	    ├── _metadata.json                     written last, names and checksums every data file
//	    ├── state-0001.bin                     one data file per (uid, state), numbered in write order
//	    └── state-0002.bin
//
// The name is savepoint-<first 6 hex of the job id>-<12 random hex>. The directory holds
// nothing else: an unexpected file in it is an error, and so is a missing one.
//
// # Data file
//
// A data file holds the entries of one state, exactly the bytes the state backend stores,
// sorted by key group and then by key bytes (each (key group, key) at most once):
//
//	+--------------------+----------------+---------+---------+-----+---------+----------+
//	| magic "PCTLSAVE"   | format version | entry 0 | entry 1 | ... | entry N | footer   |
//	| 8 bytes            | uint32 LE      |         |         |     |         | 16 bytes |
//	+--------------------+----------------+---------+---------+-----+---------+----------+
//
//	entry:  +----------------+-------------+-----+---------------+-------+
//	        | key group      | key length  | key | value length  | value |
//	        | uvarint        | uvarint     |     | uvarint       |       |
//	        +----------------+-------------+-----+---------------+-------+
//
//	footer: +-------------------+----------------------------------+---------------+
//	        | entries uint64 LE | CRC-32C of header and entries LE | magic "PEND"  |
//	        +-------------------+----------------------------------+---------------+
//
// A value is the state backend's stored form: with a TTL the write time comes first
// (statebackend.EncodeStored); the rest is the schema's binary encoding of the whole value
// kept per key (a list state's list, a map state's map).
//
// # _metadata.json
//
// The JSON form of Metadata. For each state it records the data file's name, its size and
// the sha256 of its bytes ("sha256:<hex>"), with the number of entries and their key+value
// bytes. Its own "checksum" is the sha256 of the compact JSON of the metadata without that
// field (fields in Go declaration order, as encoding/json writes them), so a hand-edited or
// truncated metadata file is caught and not only a damaged data file.
//
// # Invariants
//
//   - A directory whose name starts with "." is never a savepoint.
//   - Open verifies the format version, the metadata checksum, and every data file's size and
//     sha256 before it returns: a restore never starts on a damaged savepoint. ReadState
//     checks each file's header, entry order, footer count and CRC once more as it streams.
//     MapState checks the same in one pass over the memory-mapped file, recording where each
//     entry starts, for a restore that serves reads from the file while it loads it.
//   - Every error about a savepoint that is not complete and intact wraps ErrInvalid.
//   - Dispose removes _metadata.json first and syncs the directory before deleting the data
//     files, so a half-deleted savepoint is never taken for valid.
//   - FormatVersion1's meaning never changes; a new layout gets a new constant.
package savepoints
