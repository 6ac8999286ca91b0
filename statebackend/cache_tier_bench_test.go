package statebackend

import (
	"fmt"
	"testing"
)

// tierBenchKeys is the key space of the two-tier benchmarks: more than the decoded tier holds
// (hotCapacity), less than the second tier does.
const (
	tierBenchKeys = 100_000
	hotCapacity   = 1024
)

// benchKeys returns n keys like a keyed state's (an encoded int after the key group).
func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%07d", i)
	}
	return keys
}

// BenchmarkCacheTiers reads through a two-tier cache on badger: a hit in the decoded tier, a
// hit in the second tier (the entry moves up, another one down), and a miss that reaches the
// table (an absent key, then cached as absent).
func BenchmarkCacheTiers(b *testing.B) {
	keys := benchKeys(tierBenchKeys)
	newCache := func(b *testing.B) *Cache {
		_, tb := backendKinds[1].table(b)
		c := NewCache(tb, stringCodec{}, CacheOptions{Capacity: hotCapacity, MaxBytes: 64 << 20, SecondTier: true})
		for i, k := range keys {
			if err := c.Put(uint16(i%128), k, "v1234567"); err != nil {
				b.Fatal(err)
			}
		}
		return c
	}
	hits := []struct {
		name string
		key  func(i int) int // the i-th read's key index
	}{
		// The last keys written are in the decoded tier.
		{"hot hit", func(i int) int { return tierBenchKeys - 1 - i%(hotCapacity/2) }},
		// In key order: always the one read longest ago.
		{"second-tier hit", func(i int) int { return i % tierBenchKeys }},
	}
	for _, h := range hits {
		b.Run(h.name, func(b *testing.B) {
			c := newCache(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				j := h.key(i)
				if _, ok, err := c.Get(uint16(j%128), keys[j]); err != nil || !ok {
					b.Fatalf("Get: %v, %v", ok, err)
				}
			}
		})
	}
	b.Run("miss", func(b *testing.B) {
		c := newCache(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			k := fmt.Appendf(keys[0][:0:0], "absent%09d", i)
			if _, ok, err := c.Get(uint16(i%128), k); err != nil || ok {
				b.Fatalf("Get: %v, %v", ok, err)
			}
		}
	})
}

// BenchmarkCacheUniform is the large-state workload's access pattern on one subtask: a read and
// a write of a small value per record, over 500,000 keys drawn uniformly, with the cache share
// of one state of a 256 MiB job (24 MiB). It reports the table reads and written entries per
// record.
func BenchmarkCacheUniform(b *testing.B) {
	const keys = 500_000
	for _, second := range []bool{false, true} {
		b.Run(fmt.Sprintf("second tier %v", second), func(b *testing.B) {
			_, tb := backendKinds[1].table(b)
			counting := &countingTable{Table: tb}
			c := NewCache(counting, stringCodec{}, CacheOptions{MaxBytes: 24 << 20, SecondTier: second})
			kb := benchKeys(keys)
			x := uint64(1)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				j := int(x % keys)
				kg := uint16(j % 128)
				if _, _, err := c.Get(kg, kb[j]); err != nil {
					b.Fatal(err)
				}
				if err := c.Put(kg, kb[j], "v1234567"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(counting.gets)/float64(b.N), "table-gets/op")
			b.ReportMetric(float64(counting.applied)/float64(b.N), "table-writes/op")
		})
	}
}
