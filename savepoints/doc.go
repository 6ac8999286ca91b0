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
// sorted by key group and then by key bytes (each (key group, key) at most once). The writer
// writes format 2; format 1 files (no index, a shorter footer) are still read.
//
//	+------------------+----------------+---------+-----+---------+---------+---------+----------+
//	| magic "PCTLSAVE" | format version | entry 1 | ... | entry N | padding | index   | footer   |
//	| 8 bytes          | uint32 LE      |         |     |         | 0-3     | 4N      | 24 bytes |
//	+------------------+----------------+---------+-----+---------+---------+---------+----------+
//
//	entry:  +----------------+-------------+-----+---------------+-------+
//	        | key group      | key length  | key | value length  | value |
//	        | uvarint        | uvarint     |     | uvarint       |       |
//	        +----------------+-------------+-----+---------------+-------+
//
//	index:  the offset in the file where each entry starts, uint32 LE each, in entry order;
//	        it starts at the entries' end rounded up to 4 bytes (zero padding)
//
//	footer: +-------------------+---------------------+--------------------------+--------------+
//	        | entries uint64 LE | entries end uint64  | CRC-32C of all before    | magic "PEND" |
//	        |                   | LE (offset)         | the footer, uint32 LE    |              |
//	        +-------------------+---------------------+--------------------------+--------------+
//
// A file with no entries, or one whose index would take it past 4 GiB (the offsets are 32
// bits; the file is then not mapped but loaded), has no padding and no index: its entries end
// where the footer starts. Format 1 has neither padding nor index, and its footer is entries
// (uint64 LE), CRC-32C of header and entries (uint32 LE), "PEND": 16 bytes.
//
// A value is the state backend's stored form: with a TTL the write time comes first
// (statebackend.EncodeStored); the rest is the schema's binary encoding of the whole value
// kept per key (a list state's list, a map state's map).
//
// # _metadata.json
//
// The JSON form of Metadata. For each state it records the data file's name, its size and
// the checksum of its bytes — format 2: their CRC-32C ("crc32c:<8 hex>", computed as they are
// written and checked at several GB/s); format 1: their sha256 ("sha256:<hex>") — with the
// number of entries and their key+value bytes. Its own "checksum" is the sha256 of the compact JSON of the metadata without that
// field (fields in Go declaration order, as encoding/json writes them), so a hand-edited or
// truncated metadata file is caught and not only a damaged data file.
//
// # Invariants
//
//   - A directory whose name starts with "." is never a savepoint.
//   - Open verifies the format version, the metadata checksum, and every data file's size and
//     checksum before it returns: a restore never starts on a damaged savepoint. ReadState
//     checks each file's header, entry order, footer count and CRC once more as it streams.
//   - MapState, for a restore that serves reads from the file while it loads it, checks the
//     header, the footer and the CRC of the whole file and takes the entries' offsets from
//     the index (format 2: no pass over the entries; format 1: one pass that checks them).
//     MappedState.Verify then checks each entry's framing, key group and order against the
//     index, and the metadata's counts, while the job runs: only a file forged with matching
//     checksums can fail it, and the job fails naming the key.
//   - Every error about a savepoint that is not complete and intact wraps ErrInvalid.
//   - Dispose removes _metadata.json first and syncs the directory before deleting the data
//     files, so a half-deleted savepoint is never taken for valid.
//   - A format version's meaning never changes; a new layout gets a new constant.
package savepoints
