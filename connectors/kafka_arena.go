package connectors

import "github.com/twmb/franz-go/pkg/kgo"

// recordArena hands out the kgo.Records a Kafka sink produces, and the bytes of their keys
// and values, from chunks of a few hundred records: one allocation per chunk instead of
// several per record (the record, its value grown while it is encoded, its key). The client
// holds a record until the broker acknowledges it; a chunk is collected once none of its
// records is held. Not safe for concurrent use.
type recordArena struct {
	recs  []kgo.Record // what is left of the current chunk
	bytes []byte       // the current chunk of bytes: its free capacity is handed out
}

// The size of the chunks: records, and bytes (a value larger than a quarter of it gets an
// allocation of its own, so that a chunk is never mostly waste).
const (
	arenaRecords = 256
	arenaBytes   = 32 << 10
)

// record returns a zero record.
func (a *recordArena) record() *kgo.Record {
	if len(a.recs) == 0 {
		a.recs = make([]kgo.Record, arenaRecords)
	}
	r := &a.recs[0]
	a.recs = a.recs[1:]
	return r
}

// copy returns a copy of b (never nil: an empty key is not a missing one).
func (a *recordArena) copy(b []byte) []byte {
	if len(b) > arenaBytes/4 {
		return append(make([]byte, 0, len(b)), b...)
	}
	if a.bytes == nil || cap(a.bytes)-len(a.bytes) < len(b) {
		a.bytes = make([]byte, 0, arenaBytes)
	}
	start := len(a.bytes)
	a.bytes = append(a.bytes, b...)
	return a.bytes[start:len(a.bytes):len(a.bytes)]
}
