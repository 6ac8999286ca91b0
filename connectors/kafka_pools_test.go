package connectors

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A slice goes back to the largest class its capacity fills, and a get takes from the
// smallest class whose slices all have room for it: whatever comes back is large enough.
func TestSlicePoolClasses(t *testing.T) {
	cases := []struct{ n, get, put int }{
		{0, 0, -1}, {1, 0, 0}, {2, 1, 1}, {3, 2, 1}, {1000, 10, 9}, {1024, 10, 10}, {1025, 11, 10},
		{1 << maxPoolClass, maxPoolClass, maxPoolClass}, {1<<maxPoolClass + 1, maxPoolClass + 1, maxPoolClass},
	}
	for _, c := range cases {
		if got := getClass(c.n); got != c.get {
			t.Errorf("getClass(%d) = %d, want %d", c.n, got, c.get)
		}
		if c.n > 0 {
			if got := putClass(c.n); got != c.put {
				t.Errorf("putClass(%d) = %d, want %d", c.n, got, c.put)
			}
		}
	}
}

// Every get has room for n, and is empty, whether it reuses a slice put back or not.
func TestSlicePool(t *testing.T) {
	var p slicePool[byte]
	for _, n := range []int{0, 1, 1000, 1024, 1025, 5000, 1 << 27} {
		for _, c := range []int{n, n + n/2, 2 * n} {
			if c > 0 && c < 1<<20 {
				p.put(make([]byte, c/2, c))
			}
		}
		for i := 0; i < 3; i++ {
			if got := p.get(n); len(got) != 0 || cap(got) < n {
				t.Fatalf("get(%d): len %d cap %d", n, len(got), cap(got))
			}
		}
	}
}

// A snappy batch gets a buffer of its decoded length.
func TestKafkaPoolsDecompressBytes(t *testing.T) {
	p := newKafkaPools()
	raw := bytes.Repeat([]byte(`{"type":"motion","room":7}`), 500)
	if got := p.GetDecompressBytes(s2.EncodeSnappy(nil, raw), kgo.CodecSnappy); cap(got) < len(raw) {
		t.Errorf("snappy: capacity %d, want at least the decoded %d", cap(got), len(raw))
	}
	if got := p.GetDecompressBytes(make([]byte, 100), kgo.CodecLz4); cap(got) < 400 {
		t.Errorf("lz4: capacity %d, want a guess of 4x the compressed size", cap(got))
	}
}

// Records read over many fetches, from batches of every codec, keep their values, keys and
// headers although the client decodes each batch into buffers used before (the pools).
func TestKafkaSourceManyFetches(t *testing.T) {
	codecs := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(), "gzip": kgo.GzipCompression()}
	const n = 20000 // about 2MB: several fetches of fetchMaxBytes
	value := func(i int) string {
		return fmt.Sprintf("%06d-%x-%x", i, uint32(i)*2654435761, uint64(i)*0x9E3779B97F4A7C15)
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			brokers := kafkaTestCluster(t, map[string]int32{"t": 2})
			cl := kafkaClient(t, brokers, kgo.ProducerBatchCompression(codec), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			for from := 0; from < n; from += 500 { // batches of 250 records per partition
				var recs []*kgo.Record
				for i := from; i < from+500; i++ {
					recs = append(recs, &kgo.Record{Topic: "t", Partition: int32(i % 2), Key: []byte(fmt.Sprint(i)),
						Value: []byte(value(i)), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(value(i))}}})
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := cl.ProduceSync(ctx, recs...).FirstErr()
				cancel()
				if err != nil {
					t.Fatal(err)
				}
			}
			meta := Options{"key": "k", "headers": "hd"}
			src := kafkaSourceFor(t, brokers, Options{"format": "bytes", "metadata": meta},
				"{value: bytes, k: string, hd: map<string, string>}", 0, 1)
			fc := &fakeCtx{}
			if err := src.Run(fc); err != nil {
				t.Fatal(err)
			}
			recs := fc.records()
			if len(recs) != n {
				t.Fatalf("read %d records, want %d", len(recs), n)
			}
			seen := make([]bool, n)
			for _, r := range recs {
				m := r.(map[string]any)
				var i int
				if _, err := fmt.Sscan(m["k"].(string), &i); err != nil || i < 0 || i >= n || seen[i] {
					t.Fatalf("key %q: not a new index below %d", m["k"], n)
				}
				seen[i] = true
				if v := string(m["value"].([]byte)); v != value(i) {
					t.Fatalf("record %d: value %q, want %q", i, v, value(i))
				}
				if h := m["hd"].(map[string]any)["h"]; h != value(i) {
					t.Fatalf("record %d: header %q, want %q", i, h, value(i))
				}
			}
		})
	}
}
