package statebackend

import (
	"encoding/binary"

	"github.com/dgraph-io/ristretto/v2/z"
)

// Protocol buffer tags of the fields of Badger's pb.KV that a bulk load sets: key (1) and
// value (2) as length-delimited bytes, version (4), stream_id (10) and stream_done (11) as
// varints.
const (
	kvKeyTag      = 1<<3 | 2
	kvValueTag    = 2<<3 | 2
	kvVersionTag  = 4 << 3 // wire type 0: varint
	kvStreamIDTag = 10 << 3
	kvDoneTag     = 11 << 3
)

// appendStreamKV appends to buf the pb.KV of one StreamWriter entry, encoded by hand: the
// generic protobuf marshaller costs a heap-allocated message and reflection per entry.
func appendStreamKV(buf *z.Buffer, stream uint32, version uint64, key, value []byte) {
	size := 1 + uvarintLen(uint64(len(key))) + len(key) +
		1 + uvarintLen(version) + 1 + uvarintLen(uint64(stream))
	if len(value) > 0 {
		size += 1 + uvarintLen(uint64(len(value))) + len(value)
	}
	b := buf.SliceAllocate(size)[:0]
	b = append(binary.AppendUvarint(append(b, kvKeyTag), uint64(len(key))), key...)
	if len(value) > 0 {
		b = append(binary.AppendUvarint(append(b, kvValueTag), uint64(len(value))), value...)
	}
	b = binary.AppendUvarint(append(b, kvVersionTag), version)
	binary.AppendUvarint(append(b, kvStreamIDTag), uint64(stream))
}

// appendStreamDone appends to buf the pb.KV that ends a stream.
func appendStreamDone(buf *z.Buffer, stream uint32) {
	b := buf.SliceAllocate(1 + uvarintLen(uint64(stream)) + 2)[:0]
	b = binary.AppendUvarint(append(b, kvStreamIDTag), uint64(stream))
	_ = append(b, kvDoneTag, 1)
}

// uvarintLen is the length of the uvarint encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
