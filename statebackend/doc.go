// Package statebackend stores keyed state: tables named by operator uid and state name, whose
// entries are addressed by key group and key bytes. Two backends hold exactly the same
// semantics: badger (embedded Badger v4, on disk) and memory (Go maps). A write-back Cache of
// decoded values, with a compact second tier of encoded ones (cache_tier.go), sits in front of a
// table so that the per-record path never opens a Badger transaction. One conformance suite
// (conformance_test.go) runs against every backend.
//
// A Cache can be frozen for an asynchronous snapshot (Cache.Snapshot: a TableView of its
// table, which badger gives as a read transaction, plus copies of its dirty entries), and can
// sit over a read-only Base: the entries of a lazily restored state, served on a miss and
// copied into the table in steps by the cache's own goroutine (LoadBase).
//
// Badger key layout (one database per job):
//
//	+-----------------+-------------+-----------+
//	| table id uint32 | kg uint16   | key bytes |   entries of a table, sorted by (kg, key)
//	+-----------------+-------------+-----------+
//	| 0x00000000      | uvarint(len(uid)) uid state |   table registry → table id (4 bytes)
//	+-----------------+-----------------------------+
//
// All integers are big-endian, so a key-group range of one table is one contiguous key range
// and Scan is a single iteration. Table id 0 is reserved for the registry.
//
// Stored values of a state with a TTL carry their write time in front of the codec bytes
// (see EncodeStored); without a TTL the stored value is the codec bytes themselves.
package statebackend
