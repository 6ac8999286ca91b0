package connectors

import (
	"math/bits"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaPools lends a consumer the slices each fetched batch is decoded into (its records and
// its decompressed bytes); the client takes them back once every record of the batch has
// been recycled (kgo.Record.Recycle). Without it every batch decodes into fresh memory as
// large as the batch, which the client zeroes, the first write faults in and the collector
// scans and frees again: in a profile of a Kafka source that cost more than the decoding
// itself.
//
// Slices are kept by capacity class (powers of two): a source reads one batch after another,
// so the same few slices go round. It is safe for concurrent use (the client's fetch
// goroutines take, the source puts back).
type kafkaPools struct {
	recs  slicePool[kgo.Record]
	bytes slicePool[byte]
}

// newKafkaPools returns empty pools.
func newKafkaPools() *kafkaPools { return &kafkaPools{} }

// GetRecords implements kgo.PoolRecords.
func (p *kafkaPools) GetRecords(n int) []kgo.Record { return p.recs.get(n) }

// PutRecords implements kgo.PoolRecords.
func (p *kafkaPools) PutRecords(s []kgo.Record) { p.recs.put(s) }

// GetDecompressBytes implements kgo.PoolDecompressBytes: the decoded length of a snappy
// batch is in its header; for other codecs the guess is four times the compressed size (a
// codec grows a slice that is too short, and the grown one comes back).
func (p *kafkaPools) GetDecompressBytes(compressed []byte, codec kgo.CompressionCodecType) []byte {
	n := 4 * len(compressed)
	if codec == kgo.CodecSnappy {
		if l, err := s2.DecodedLen(compressed); err == nil {
			n = l
		}
	}
	return p.bytes.get(n)
}

// PutDecompressBytes implements kgo.PoolDecompressBytes.
func (p *kafkaPools) PutDecompressBytes(b []byte) { p.bytes.put(b) }

// maxPoolClass is the largest class of a slicePool: slices of up to 2^maxPoolClass elements.
const maxPoolClass = 26

// slicePool keeps slices by capacity class: class c holds slices of capacity at least 2^c.
// The classes are sync.Pools, which the collector empties when they are not used.
type slicePool[T any] struct {
	free [maxPoolClass + 1]sync.Pool // of *[]T
}

// get returns a slice of capacity at least n (length 0): a kept one, else a new one of the
// class's size.
func (p *slicePool[T]) get(n int) []T {
	c := getClass(n)
	if c > maxPoolClass {
		return make([]T, 0, n)
	}
	if s, ok := p.free[c].Get().(*[]T); ok {
		return (*s)[:0]
	}
	return make([]T, 0, 1<<c)
}

// put keeps s for a later get, in the largest class its capacity fills.
func (p *slicePool[T]) put(s []T) {
	if cap(s) == 0 {
		return
	}
	p.free[putClass(cap(s))].Put(&s)
}

// getClass is the class a get of n elements takes from: the smallest c with 2^c >= n.
func getClass(n int) int { return bits.Len(uint(max(n, 1) - 1)) }

// putClass is the class a slice of capacity c > 0 goes back to: the largest it fills.
func putClass(c int) int { return min(bits.Len(uint(c))-1, maxPoolClass) }
