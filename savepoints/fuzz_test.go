package savepoints

import (
	"os"
	"path/filepath"
	"testing"
)

// The savepoint format is read from untrusted hands (a savepoint copied from elsewhere): the
// fuzz targets feed Open and ReadState arbitrary bytes, which must be refused with an error,
// never a panic, a hang or an allocation beyond the input's size. Run each bounded:
//
//	go test ./savepoints -run '^$' -fuzz FuzzMetadata -fuzztime 15s
//	go test ./savepoints -run '^$' -fuzz FuzzDataFile -fuzztime 15s

// FuzzMetadata parses the input as the _metadata.json of a savepoint whose data files are
// those of a valid one, so that a metadata the parser accepts is verified against them.
func FuzzMetadata(f *testing.F) {
	sp := writeSavepoint(f, f.TempDir(), testMeta(), corruptData)
	valid, err := os.ReadFile(filepath.Join(sp, MetadataFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte("{}"))
	f.Add([]byte(`{"format_version":1,"max_parallelism":0,"operators":[{"uid":"a","states":[{"name":"s","file":"../x"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, err := parseMetadata(sp, data)
		if err != nil {
			return
		}
		if err := verifyFiles(sp, meta); err != nil {
			return
		}
		opened := &Savepoint{Path: sp, Meta: meta}
		for _, op := range meta.Operators {
			for _, st := range op.States {
				_ = opened.ReadState(op.UID, st.Name, func(uint16, []byte, []byte) error { return nil })
			}
		}
	})
}

// FuzzDataFile reads a data file whose content is the input, as if its metadata had been
// forged to match its size (checksums pass): ReadState must refuse damage with an error.
func FuzzDataFile(f *testing.F) {
	valid := rawDataFile(append(rawEntry(1, "hall", "on"), rawEntry(7, "kitchen", "off")...), 2, 0)
	f.Add(valid)
	f.Add(rawDataFile(rawEntry(200, "a", "x"), 1, 0))
	f.Add(rawDataFile([]byte{1, 0xff, 0xff, 0xff, 0x7f}, 1, 0))
	f.Add([]byte(dataMagic))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "state-0001.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sp := &Savepoint{Path: dir, Meta: &Metadata{MaxParallelism: 128, Operators: []OperatorMeta{{UID: "u", States: []StateMeta{
			{Name: "s", File: "state-0001.bin", Size: int64(len(data)), Entries: 2, Bytes: 16},
		}}}}}
		_ = sp.ReadState("u", "s", func(kg uint16, key, value []byte) error {
			if int(kg) >= 128 || len(key)+len(value) > len(data) {
				t.Fatalf("entry past its bounds: key group %d, %d+%d bytes of a %d-byte file", kg, len(key), len(value), len(data))
			}
			return nil
		})
	})
}
