package savepoints

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The benchmarks write and read 1,000,000 small entries (8-byte key, 10-byte value) spread
// over 128 key groups, the shape of a large keyed state, beside a baseline that writes and
// reads the same bytes with no hashing, checks or metadata (the disk's sequential speed).
const benchEntries = 1_000_000

// benchEntry returns the key group, key and value of entry i (sorted by key group, then key).
func benchEntry(i int, key, value []byte) uint16 {
	binary.BigEndian.PutUint64(key, uint64(i))
	binary.BigEndian.PutUint64(value, uint64(i)*7)
	return uint16(i * 128 / benchEntries)
}

// benchFileSize is the size of the data file of the benchmark state: per entry a 1-byte
// key group (all below 128), key length, key, value length and value.
func benchFileSize() int64 {
	return benchEntries*(1+1+8+1+10) + int64(headerSize+footerSize)
}

// writeBenchSavepoint writes the benchmark savepoint into dir.
func writeBenchSavepoint(b *testing.B, dir string) string {
	w, err := Create(dir, testJobID)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	sw, err := w.State("per-room", "agg")
	if err != nil {
		b.Fatal(err)
	}
	key, value := make([]byte, 8), make([]byte, 10)
	for i := range benchEntries {
		if err := sw.Add(benchEntry(i, key, value), key, value); err != nil {
			b.Fatal(err)
		}
	}
	path, err := w.Commit(&Metadata{JobID: testJobID, MaxParallelism: 128, Operators: []OperatorMeta{
		{UID: "per-room", Kind: "sum", States: []StateMeta{{Name: "agg", Kind: "internal", Schema: "int"}}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkWrite1M(b *testing.B) {
	dir := b.TempDir()
	b.SetBytes(benchFileSize())
	b.ReportAllocs()
	for range b.N {
		path := writeBenchSavepoint(b, dir)
		b.StopTimer()
		if err := Dispose(path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkOpenRead1M(b *testing.B) {
	path := writeBenchSavepoint(b, b.TempDir())
	b.SetBytes(benchFileSize())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sp, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := sp.ReadState("per-room", "agg", func(uint16, []byte, []byte) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != benchEntries {
			b.Fatalf("read %d entries", n)
		}
	}
}

// baselineWrite writes the entries length-prefixed through a bufio.Writer of the same size
// and fsyncs: no hashing, no order check, no metadata, no rename.
func baselineWrite(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, bufferSize)
	key, value := make([]byte, 8), make([]byte, 10)
	hdr := make([]byte, 0, binary.MaxVarintLen64*2)
	for i := range benchEntries {
		kg := benchEntry(i, key, value)
		bw.Write(binary.AppendUvarint(binary.AppendUvarint(hdr[:0], uint64(kg)), uint64(len(key))))
		bw.Write(key)
		bw.Write(binary.AppendUvarint(hdr[:0], uint64(len(value))))
		bw.Write(value)
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkBaselineWrite1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "baseline.bin")
	b.SetBytes(benchFileSize())
	b.ReportAllocs()
	for range b.N {
		baselineWrite(b, path)
	}
}

func BenchmarkBaselineRead1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "baseline.bin")
	baselineWrite(b, path)
	b.SetBytes(benchFileSize())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReaderSize(f, bufferSize)
		buf := make([]byte, 64)
		n := 0
		for ; ; n++ {
			if _, err := binary.ReadUvarint(br); err == io.EOF {
				break
			}
			for range 2 {
				l, err := binary.ReadUvarint(br)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(br, buf[:l]); err != nil {
					b.Fatal(err)
				}
			}
		}
		f.Close()
		if n != benchEntries {
			b.Fatalf("read %d entries", n)
		}
	}
}

// BenchmarkWriteChunks1M writes the benchmark state as a snapshot does: two chunks of
// 500,000 entries (the parts of two subtasks, built beforehand) copied into the data file,
// then the commit (footer, fsyncs, metadata, rename).
func BenchmarkWriteChunks1M(b *testing.B) {
	dir := b.TempDir()
	chunks := make([]Chunk, 2)
	key, value := make([]byte, 8), make([]byte, 10)
	for i := range benchEntries {
		if err := chunks[i*2/benchEntries].Add(benchEntry(i, key, value), key, value); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(benchFileSize())
	b.ReportAllocs()
	for range b.N {
		w, err := Create(dir, testJobID)
		if err != nil {
			b.Fatal(err)
		}
		sw, err := w.State("per-room", "agg")
		if err != nil {
			b.Fatal(err)
		}
		for i := range chunks {
			if err := sw.AddChunk(&chunks[i]); err != nil {
				b.Fatal(err)
			}
		}
		path, err := w.Commit(&Metadata{JobID: testJobID, MaxParallelism: 128, Operators: []OperatorMeta{
			{UID: "per-room", Kind: "sum", States: []StateMeta{{Name: "agg", Kind: "internal", Schema: "int"}}},
		}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := Dispose(path); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkChunkAddRun1M adds the benchmark state to a chunk as one run framed elsewhere, as
// an incremental stop copies the entries of its base that were not written since (compare
// BenchmarkChunkAdd1M: the same entries added one by one).
func BenchmarkChunkAddRun1M(b *testing.B) {
	key, value := make([]byte, 8), make([]byte, 10)
	var src Chunk
	for i := range benchEntries {
		if err := src.Add(benchEntry(i, key, value), key, value); err != nil {
			b.Fatal(err)
		}
	}
	var framed []byte
	for _, p := range src.allPieces() {
		framed = append(framed, p.mem...)
	}
	b.SetBytes(int64(len(framed)))
	b.ReportAllocs()
	for range b.N {
		var c Chunk
		if err := c.AddRun(framed, src.offs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkAdd1M adds the benchmark state to a chunk entry by entry, as a full snapshot
// does.
func BenchmarkChunkAdd1M(b *testing.B) {
	key, value := make([]byte, 8), make([]byte, 10)
	b.ReportAllocs()
	for range b.N {
		var c Chunk
		for i := range benchEntries {
			if err := c.Add(benchEntry(i, key, value), key, value); err != nil {
				b.Fatal(err)
			}
		}
	}
}
