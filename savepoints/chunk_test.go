package savepoints

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// frame frames entries as a data file does, after pad bytes, and returns the bytes and where
// each entry starts.
func frame(pad int, entries []entry) ([]byte, []uint32) {
	b := make([]byte, pad)
	var starts []uint32
	for _, e := range entries {
		starts = append(starts, uint32(len(b)))
		b = binary.AppendUvarint(b, uint64(e.KG))
		b = binary.AppendUvarint(b, uint64(len(e.Key)))
		b = append(b, e.Key...)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	return b, starts
}

// TestChunkRuns: a chunk made of entries added one by one and runs framed elsewhere (as an
// incremental snapshot copies them from the previous one), in memory or spilled to a file
// as it grows, writes a data file whose entries, index and sizes are those of the same
// entries added one by one.
func TestChunkRuns(t *testing.T) {
	cases := []struct {
		name      string
		valueSize int  // beside i bytes for entry i
		spill     bool // SpillTo a directory
	}{
		{"in memory", 0, false},
		{"large values in memory", 100_000, false},
		{"spilled", 100_000, true},
		{"small values, spill enabled", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { testChunkRuns(t, tc.valueSize, tc.spill) })
	}
}

func testChunkRuns(t *testing.T, valueSize int, spill bool) {
	var all []entry
	for i := range 40 {
		all = append(all, entry{uint16(i / 10), fmt.Appendf(nil, "key%02d", i), []byte(strings.Repeat("v", valueSize+i))})
	}
	// Entries 5–19 and 25–34 come as runs of a "previous file" that starts with other bytes.
	prev, starts := frame(7, all)
	var c Chunk
	dir := t.TempDir()
	if spill {
		c.SpillTo(dir)
	}
	defer c.Release()
	add := func(from, to int) {
		for _, e := range all[from:to] {
			if err := c.Add(e.KG, e.Key, e.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(from, to int) {
		end := len(prev)
		if to < len(starts) {
			end = int(starts[to])
		}
		if err := c.AddRun(prev[starts[from]:end], starts[from:to]); err != nil {
			t.Fatal(err)
		}
	}
	add(0, 5)
	run(5, 20)
	add(20, 25)
	run(25, 35)
	add(35, 40)
	if err := c.AddRun(prev[starts[3]:starts[4]], starts[3:4]); err == nil {
		t.Error("a run out of order was accepted")
	}
	if spilled := c.spill != nil && c.spill.n > 0; spilled != (spill && valueSize > 0) {
		t.Errorf("spilled: %v", spilled)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the spill file has a name: %v", left)
	}
	if c.Entries() != int64(len(all)) {
		t.Fatalf("chunk of %d entries, want %d", c.Entries(), len(all))
	}
	var each []entry
	if err := c.Each(func(kg uint16, key, value []byte) error {
		each = append(each, entry{kg, slices.Clone(key), slices.Clone(value)})
		return nil
	}); err != nil || !slices.EqualFunc(each, all, sameEntry) {
		t.Fatalf("Each: %v (err %v), want %v", each, err, all)
	}

	w, sw := aggState(t)
	if err := sw.AddChunk(&c); err != nil {
		t.Fatal(err)
	}
	meta := testMeta()
	meta.Operators = []OperatorMeta{meta.Operators[3]}
	sp := commitOpen(t, w, meta)
	if got := mappedEntries(t, sp, "per-room", "agg"); !slices.EqualFunc(got, all, sameEntry) {
		t.Errorf("MapState = %v, want %v", got, all)
	}
	if got := readAll(t, sp, "per-room", "agg"); !slices.EqualFunc(got, all, sameEntry) {
		t.Errorf("ReadState = %v, want %v", got, all)
	}
	var bytes int64
	for _, e := range all {
		bytes += int64(len(e.Key) + len(e.Value))
	}
	if st := sp.Meta.Operators[0].States[0]; st.Entries != int64(len(all)) || st.Bytes != bytes {
		t.Errorf("metadata: %d entries, %d bytes; want %d, %d", st.Entries, st.Bytes, len(all), bytes)
	}
}

// TestCRC32Combine: the CRC of two pieces combined equals the CRC of both at once.
func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for _, split := range []int{0, 1, 7, 100, 4096, 40000, len(data) - 1, len(data)} {
		a, b := data[:split], data[split:]
		got := crc32Combine(crc32.Checksum(a, castagnoli), crc32.Checksum(b, castagnoli), int64(len(b)))
		if want := crc32.Checksum(data, castagnoli); got != want {
			t.Errorf("split at %d: %08x, want %08x", split, got, want)
		}
	}
}
