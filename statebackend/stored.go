package statebackend

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrCorruptStored reports stored bytes whose TTL header cannot be read.
var ErrCorruptStored = errors.New("corrupt stored value: bad write-time header")

// EncodeStored and DecodeStored convert between a value's codec bytes and the bytes a table
// stores for a state with the given TTL (with TTL, the write time in Unix ms is kept in front
// of the value). Savepoints use them to write and restore entries without the cache.
func EncodeStored(dst []byte, ttl time.Duration, writtenMs int64, value []byte) []byte {
	return append(appendStoredHeader(dst, ttl, writtenMs), value...)
}

// DecodeStored splits stored bytes into the write time (0 without TTL) and the value bytes.
func DecodeStored(ttl time.Duration, stored []byte) (writtenMs int64, value []byte, err error) {
	if ttl <= 0 {
		return 0, stored, nil
	}
	w, n := binary.Uvarint(stored)
	if n <= 0 {
		return 0, nil, fmt.Errorf("decode stored value (%d bytes): %w", len(stored), ErrCorruptStored)
	}
	return int64(w), stored[n:], nil
}

// appendStoredHeader appends what EncodeStored puts in front of the codec bytes: the write
// time as a uvarint when ttl > 0, nothing otherwise.
func appendStoredHeader(dst []byte, ttl time.Duration, writtenMs int64) []byte {
	if ttl <= 0 {
		return dst
	}
	return binary.AppendUvarint(dst, uint64(writtenMs))
}

// Expired reports whether an entry written at writtenMs has expired at nowMs under ttl.
func Expired(ttl time.Duration, writtenMs, nowMs int64) bool {
	return ttl > 0 && nowMs-writtenMs >= ttl.Milliseconds()
}
