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

// A slice comes back from the class its capacity fills, and every get has room for n.
func TestSlicePool(t *testing.T) {
	var p slicePool[byte]
	cases := []struct {
		put     int // capacity of a slice put back first (0: none)
		get     int
		wantCap int
		reused  bool
	}{
		{0, 0, 1, false},
		{0, 1, 1, false},
		{0, 1000, 1024, false},
		{1024, 1000, 1024, true},
		{1500, 1000, 1500, true}, // 1500 fills class 1024
		{1500, 1025, 2048, false},
		{0, 1 << 27, 1 << 27, false}, // past the largest class: made to measure
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("put %d get %d", c.put, c.get), func(t *testing.T) {
			var put []byte
			if c.put > 0 {
				put = make([]byte, 3, c.put)
				p.put(put)
			}
			got := p.get(c.get)
			if len(got) != 0 || cap(got) != c.wantCap {
				t.Errorf("get(%d): len %d cap %d, want 0 and %d", c.get, len(got), cap(got), c.wantCap)
			}
			if reused := put != nil && &got[:1][0] == &put[:1][0]; reused != c.reused {
				t.Errorf("get(%d) reused the slice put back: %v, want %v", c.get, reused, c.reused)
			}
		})
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
