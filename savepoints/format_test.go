package savepoints

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// v1Fixture is a savepoint of format 1 (testMeta holding dumpData), written by the writer of
// that format and checked in: every later pipectl reads it.
const v1Fixture = "testdata/v1-savepoint"

// TestReadFormat1Fixture opens the format 1 fixture and reads it every way a restore,
// inspect and dump do.
func TestReadFormat1Fixture(t *testing.T) {
	sp, err := Open(v1Fixture)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Meta.FormatVersion != FormatVersion1 {
		t.Fatalf("the fixture is of format %d", sp.Meta.FormatVersion)
	}
	want := dumpData(t)
	for id, entries := range want {
		if got := readAll(t, sp, id.uid, id.name); !slices.EqualFunc(got, entries, sameEntry) {
			t.Errorf("ReadState(%s/%s) = %v, want %v", id.uid, id.name, got, entries)
		}
		if got := mappedEntries(t, sp, id.uid, id.name); !slices.EqualFunc(got, entries, sameEntry) {
			t.Errorf("MapState(%s/%s) = %v, want %v", id.uid, id.name, got, entries)
		}
	}
	var buf bytes.Buffer
	if err := sp.Dump(&buf, "alarm-evaluator", "seen"); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, filepath.Join("testdata", "dump-seen.jsonl"), buf.Bytes())
	buf.Reset()
	if err := sp.WriteInspectTable(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Format version   1\n") {
		t.Errorf("inspect of the fixture:\n%s", buf.String())
	}
}

// sameEntry compares two entries.
func sameEntry(a, b entry) bool {
	return a.KG == b.KG && bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value)
}

// mappedEntries maps a state, verifies it and returns its entries as the offsets give them.
func mappedEntries(t *testing.T, sp *Savepoint, uid, name string) []entry {
	t.Helper()
	m, err := sp.MapState(uid, name)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unmap()
	_, st, _ := sp.state(uid, name)
	var verified []entry
	if err := m.Verify(sp.Path, st.File, func(kg uint16, key, value []byte) error {
		verified = append(verified, entry{kg, bytes.Clone(key), bytes.Clone(value)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []entry
	for i, off := range m.Offsets {
		kg, key, value := decodeFramed(m.Data[off:])
		if kg != m.KeyGroup(i) {
			t.Errorf("entry %d: KeyGroup %d, framed %d", i, m.KeyGroup(i), kg)
		}
		got = append(got, entry{kg, bytes.Clone(key), bytes.Clone(value)})
	}
	if !slices.EqualFunc(got, verified, sameEntry) {
		t.Errorf("Verify saw %v, the offsets give %v", verified, got)
	}
	return got
}

// TestWriteFormat2Index: the writer's data files carry the index of their entries, whether
// they were added one by one or in chunks, and MapState takes the offsets from it.
func TestWriteFormat2Index(t *testing.T) {
	data := dumpData(t)
	meta := testMeta()
	w, err := Create(t.TempDir(), testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for id, entries := range data {
		sw, err := w.State(id.uid, id.name)
		if err != nil {
			t.Fatal(err)
		}
		// The first entry alone, the rest as a chunk.
		if err := sw.Add(entries[0].KG, entries[0].Key, entries[0].Value); err != nil {
			t.Fatal(err)
		}
		var c Chunk
		for _, e := range entries[1:] {
			if err := c.Add(e.KG, e.Key, e.Value); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.AddChunk(&c); err != nil {
			t.Fatal(err)
		}
	}
	sp := commitOpen(t, w, meta)
	for id, entries := range data {
		m, err := sp.MapState(id.uid, id.name)
		if err != nil {
			t.Fatal(err)
		}
		if m.checked || len(m.Offsets) != len(entries) {
			t.Errorf("%s/%s: %d offsets (checked by a pass: %v), want %d from the index", id.uid, id.name, len(m.Offsets), m.checked, len(entries))
		}
		m.Unmap()
		if got := mappedEntries(t, sp, id.uid, id.name); !slices.EqualFunc(got, entries, sameEntry) {
			t.Errorf("MapState(%s/%s) = %v, want %v", id.uid, id.name, got, entries)
		}
		if got := readAll(t, sp, id.uid, id.name); !slices.EqualFunc(got, entries, sameEntry) {
			t.Errorf("ReadState(%s/%s) = %v, want %v", id.uid, id.name, got, entries)
		}
	}
}

// rawDataFileV2 builds a data file of format 2 from encoded entries, with an index of the
// given offsets (nil: where the entries start) and a correct CRC unless crcDelta.
func rawDataFileV2(entries [][]byte, count uint64, index []uint32, crcDelta uint32) []byte {
	b := appendHeader(nil, FormatVersion2)
	var offs []uint32
	for _, e := range entries {
		offs = append(offs, uint32(len(b)))
		b = append(b, e...)
	}
	if index == nil {
		index = offs
	}
	end := int64(len(b))
	if len(index) > 0 {
		b = append(b, make([]byte, alignIndex(end)-end)...)
		for _, off := range index {
			b = binary.LittleEndian.AppendUint32(b, off)
		}
	}
	return appendFooterV2(b, count, end, crc32.Checksum(b, castagnoli)+crcDelta)
}

// TestMapFormat2RefusesDamage feeds MapState, Verify and ReadState data files of format 2
// that passed no checksum (as if the metadata had been forged to match): each is refused with
// ErrInvalid, by MapState before the state is served or by Verify while it is.
func TestMapFormat2RefusesDamage(t *testing.T) {
	e1, e2, e3 := rawEntry(1, "a", "x"), rawEntry(1, "b", "y"), rawEntry(2, "c", "z")
	valid := rawDataFileV2([][]byte{e1, e2, e3}, 3, nil, 0)
	withEnd := func(b []byte, end uint64) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint64(b[len(b)-footerSizeV2+8:], end)
		crcEnd := len(b) - footerSizeV2
		binary.LittleEndian.PutUint32(b[len(b)-8:], crc32.Checksum(b[:crcEnd], castagnoli))
		return b
	}
	at := func(i int) uint32 { return uint32(headerSize + i*len(e1)) }
	tests := []struct {
		name    string
		file    []byte
		entries int64
		bytes   int64
		mapErr  string // MapState's error ("": it maps the file)
		verErr  string // then Verify's ("": none)
		readErr string // ReadState's
	}{
		{"valid", valid, 3, 6, "", "", ""},
		{"crc", rawDataFileV2([][]byte{e1, e2, e3}, 3, nil, 1), 3, 6, "CRC mismatch", "", "CRC mismatch"},
		{"footer count", rawDataFileV2([][]byte{e1, e2, e3}, 2, nil, 0), 3, 6, "expected an index of 2 entries", "", "expected an index of 2 entries"},
		{"metadata count", valid, 4, 6, "footer counts 3 entries, metadata says 4", "", "metadata says 4"},
		{"metadata bytes", valid, 3, 7, "", "metadata says 7 bytes", "metadata says 3 of 7"},
		{"entries end outside", withEnd(valid, 1<<40), 3, 6, "outside the file", "", "outside the file"},
		{"index out of order", rawDataFileV2([][]byte{e1, e2, e3}, 3, []uint32{at(0), at(2), at(1)}, 0), 3, 6, "entry 2 at", "", ""},
		{"index not at the first entry", rawDataFileV2([][]byte{e1, e2, e3}, 3, []uint32{at(0) + 1, at(1), at(2)}, 0), 3, 6, "entry 0 at", "", ""},
		{"index inside an entry", rawDataFileV2([][]byte{e1, e2, e3}, 3, []uint32{at(0), at(1) + 1, at(2)}, 0), 3, 6, "", "entry 1 does not start at", ""},
		{"entries out of order", rawDataFileV2([][]byte{e2, e1, e3}, 3, nil, 0), 3, 6, "", "entry 1 is out of order", "entry 1 is out of order"},
		{"key past the entries", rawDataFileV2([][]byte{e1, e2, {2, 9, 'c'}}, 3, nil, 0), 3, 6, "", "entry 2: key: truncated", "unexpected EOF"},
		{"key group past max_parallelism", rawDataFileV2([][]byte{e1, e2, rawEntry(128, "c", "z")}, 3, nil, 0), 3, 6, "", "entry 2: bad key group", "key group 128 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "state-0001.bin"), tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			sp := &Savepoint{Path: dir, Meta: &Metadata{MaxParallelism: 128, Operators: []OperatorMeta{{UID: "u", States: []StateMeta{
				{Name: "s", File: "state-0001.bin", Size: int64(len(tt.file)), Entries: tt.entries, Bytes: tt.bytes},
			}}}}}
			wantErr := func(what string, err error, want string) {
				t.Helper()
				switch {
				case want == "" && err != nil:
					t.Fatalf("%s = %v", what, err)
				case want == "":
				case !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "data file state-0001.bin") || !strings.Contains(err.Error(), want):
					t.Errorf("%s = %v, want ErrInvalid naming the file and containing %q", what, err, want)
				}
			}
			wantErr("ReadState", sp.ReadState("u", "s", func(uint16, []byte, []byte) error { return nil }), tt.readErr)
			m, err := sp.MapState("u", "s")
			wantErr("MapState", err, tt.mapErr)
			if err != nil {
				return
			}
			defer m.Unmap()
			if len(m.Offsets) != 3 || len(m.Range(1, 2)) != 2 {
				t.Errorf("offsets %v", m.Offsets)
			}
			wantErr("Verify", m.Verify(dir, "state-0001.bin", func(uint16, []byte, []byte) error { return nil }), tt.verErr)
		})
	}
}

// TestWriterSkipsIndexPastMappable: a data file that would outgrow what MapState maps is
// written without an index; MapState says so (the restore loads it) and ReadState reads it.
func TestWriterSkipsIndexPastMappable(t *testing.T) {
	b := rawDataFileV2([][]byte{rawEntry(1, "a", "x")}, 1, []uint32{}, 0)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state-0001.bin"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sp := &Savepoint{Path: dir, Meta: &Metadata{MaxParallelism: 128, Operators: []OperatorMeta{{UID: "u", States: []StateMeta{
		{Name: "s", File: "state-0001.bin", Size: int64(len(b)), Entries: 1, Bytes: 2},
	}}}}}
	if _, err := sp.MapState("u", "s"); !errors.Is(err, ErrNotMappable) {
		t.Errorf("MapState without an index = %v, want ErrNotMappable", err)
	}
	if got := readAll(t, sp, "u", "s"); len(got) != 1 {
		t.Errorf("ReadState without an index = %v", got)
	}
	var s StateWriter
	s.indexEntry(int64(headerSize))
	s.entries = 1
	if s.indexEntry(maxMapped); !s.noIndex || s.index != nil {
		t.Errorf("the index was kept for an entry past maxMapped")
	}
	if s.indexEntry(int64(headerSize) + 1); s.index != nil {
		t.Errorf("an index dropped came back")
	}
}
