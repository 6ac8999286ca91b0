package statebackend

import (
	"syscall"
	"testing"
	"time"
)

// Benchmark shapes: a savepoint or restore moves 1e6 entries of 16-byte keys and 24-byte
// values spread over 128 key groups; the product bar is under one second each.
const (
	bulkEntries   = 1_000_000
	bulkBatch     = 10_000
	benchKGs      = 128
	hotKeys       = 10_000
	flushInterval = 1_000
)

// benchEntry returns the i-th entry; consecutive i fill one key group at a time, as a
// restore reading a savepoint sorted by key group does.
func benchEntry(i int) Mutation {
	_, m := appendEntry(nil, i)
	return m
}

// appendEntry builds the i-th entry with its key and value appended to arena.
func appendEntry(arena []byte, i int) ([]byte, Mutation) {
	kg := uint16(min(i/(bulkEntries/benchKGs), benchKGs-1))
	start := len(arena)
	arena = appendPadded(append(arena, "sensor-"...), i, 9)
	key := arena[start:len(arena):len(arena)]
	start = len(arena)
	arena = appendPadded(append(appendPadded(append(arena, "{t:"...), i, 11), ",v:"...), i%100_000_000, 8)
	arena = append(arena, '}')
	return arena, Mutation{KG: kg, Key: key, Value: arena[start:len(arena):len(arena)]}
}

// appendPadded appends n in decimal, zero-padded to width digits.
func appendPadded(dst []byte, n, width int) []byte {
	start := len(dst)
	for range width {
		dst = append(dst, '0')
	}
	for i := len(dst) - 1; i >= start && n > 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	return dst
}

// bulkBatches calls fn with batches of bulkBatch entries covering [0, n), reusing their
// memory as a restore streaming a savepoint does.
func bulkBatches(n int, fn func([]Mutation) error) error {
	batch := make([]Mutation, 0, bulkBatch)
	arena := make([]byte, 0, bulkBatch*64)
	for i := range n {
		var m Mutation
		arena, m = appendEntry(arena, i)
		batch = append(batch, m)
		if len(batch) == bulkBatch || i == n-1 {
			if err := fn(batch); err != nil {
				return err
			}
			batch, arena = batch[:0], arena[:0]
		}
	}
	return nil
}

// fill applies entries [0, n) to t in batches of bulkBatch.
func fill(b *testing.B, t Table, n int) {
	if err := bulkBatches(n, t.Apply); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the user+system CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per op since start (background goroutines
// included): on a loaded machine it shows what wall time an idle one would give.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/1e6/float64(b.N), "cpu-ms/op")
}

func forEachKind(b *testing.B, fn func(b *testing.B, k backendKind)) {
	for _, k := range backendKinds {
		b.Run(k.name, func(b *testing.B) { fn(b, k) })
	}
}

// BenchmarkApply1M bulk-loads 1e6 entries into an empty table, as a restore does; one op is
// the whole load, including building the batches (about 5% of it).
func BenchmarkApply1M(b *testing.B) {
	forEachKind(b, func(b *testing.B, k backendKind) {
		var cpu time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			tb := mustTable(b, k.open(b, b.TempDir(), true), "op", "s")
			start := cpuTime(b)
			b.StartTimer()
			fill(b, tb, bulkEntries)
			cpu += cpuTime(b) - start
		}
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkBulkLoad1M loads the entries of BenchmarkApply1M through a BulkLoader session
// instead of Apply; one op is the whole load up to Flush.
func BenchmarkBulkLoad1M(b *testing.B) {
	forEachKind(b, func(b *testing.B, k backendKind) {
		var cpu time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			be := k.open(b, b.TempDir(), true)
			start := cpuTime(b)
			b.StartTimer()
			bulk := beginBulk(b, be)
			w, err := bulk.Table("op", "s")
			if err != nil {
				b.Fatal(err)
			}
			err = bulkBatches(bulkEntries, func(batch []Mutation) error {
				for i := range batch {
					if err := w.Add(batch[i].KG, batch[i].Key, batch[i].Value); err != nil {
						return err
					}
				}
				return nil
			})
			if err == nil {
				err = bulk.Flush()
			}
			if err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime(b) - start
		}
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkScan1M reads 1e6 entries in key order, as a savepoint does; one op is the whole
// scan.
func BenchmarkScan1M(b *testing.B) {
	forEachKind(b, func(b *testing.B, k backendKind) {
		_, tb := k.table(b)
		fill(b, tb, bulkEntries)
		b.ResetTimer()
		start := cpuTime(b)
		defer reportCPU(b, start)
		for range b.N {
			n := 0
			if err := tb.Scan(0, benchKGs, func(uint16, []byte, []byte) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
			if n != bulkEntries {
				b.Fatalf("scanned %d entries; want %d", n, bulkEntries)
			}
		}
	})
}

// BenchmarkTableGet is the cache-miss path: one Get of a present key among 100k.
func BenchmarkTableGet(b *testing.B) {
	const n = 100_000
	forEachKind(b, func(b *testing.B, k backendKind) {
		_, tb := k.table(b)
		fill(b, tb, n)
		entries := make([]Mutation, n)
		for i := range entries {
			entries[i] = benchEntry((i * 7919) % n)
		}
		b.ResetTimer()
		for i := range b.N {
			e := &entries[i%n]
			if _, ok, err := tb.Get(e.KG, e.Key); err != nil || !ok {
				b.Fatalf("Get: %v, %v", ok, err)
			}
		}
	})
}

// hotCache returns a cache holding hotKeys clean entries, their keys and boxed values.
func hotCache(b *testing.B, k backendKind) (*Cache, []Mutation, []any) {
	_, tb := k.table(b)
	c := NewCache(tb, stringCodec{}, CacheOptions{})
	entries := make([]Mutation, hotKeys)
	values := make([]any, hotKeys)
	for i := range entries {
		entries[i] = benchEntry(i)
		values[i] = string(entries[i].Value)
		if err := c.Put(entries[i].KG, entries[i].Key, values[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		b.Fatal(err)
	}
	return c, entries, values
}

// BenchmarkCacheGetHit is the per-record state read: it must not allocate.
func BenchmarkCacheGetHit(b *testing.B) {
	forEachKind(b, func(b *testing.B, k backendKind) {
		c, entries, _ := hotCache(b, k)
		b.ResetTimer()
		for i := range b.N {
			e := &entries[i%hotKeys]
			if _, ok, err := c.Get(e.KG, e.Key); err != nil || !ok {
				b.Fatalf("Get: %v, %v", ok, err)
			}
		}
	})
}

// BenchmarkCachePutFlush is the per-record state write, with a Flush every 1000 puts (as a
// checkpoint or a full cache does); the Flush cost is spread over the puts.
func BenchmarkCachePutFlush(b *testing.B) {
	forEachKind(b, func(b *testing.B, k backendKind) {
		c, entries, values := hotCache(b, k)
		b.ResetTimer()
		for i := range b.N {
			e := &entries[(i*7919)%hotKeys]
			if err := c.Put(e.KG, e.Key, values[(i+1)%hotKeys]); err != nil {
				b.Fatal(err)
			}
			if i%flushInterval == flushInterval-1 {
				if err := c.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func TestBenchEntry(t *testing.T) {
	want := Mutation{KG: 0, Key: []byte("sensor-000001234"), Value: []byte("{t:00000001234,v:00001234}")}
	if got := benchEntry(1234); got.KG != want.KG || string(got.Key) != string(want.Key) || string(got.Value) != string(want.Value) {
		t.Errorf("benchEntry(1234) = %q %q; want %q %q", got.Key, got.Value, want.Key, want.Value)
	}
}
