package savepoints

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// corruptData is the content of the savepoints the corruption tests damage.
var corruptData = stateData{
	{"alarm-evaluator", "alarm"}: {{1, []byte("hall"), []byte("on")}, {7, []byte("kitchen"), []byte("off")}},
	{"per-room", "agg"}:          {{3, []byte{2}, []byte("two")}},
}

// rewrite applies fn to the content of a file.
func rewrite(t *testing.T, path string, fn func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesDamage damages every kind of file of a savepoint, one way at a time, and
// expects Open to refuse it with ErrInvalid and a message naming the damage.
func TestOpenRefusesDamage(t *testing.T) {
	meta := func(sp string) string { return filepath.Join(sp, MetadataFile) }
	data := func(sp string) string { return filepath.Join(sp, "state-0001.bin") }
	tests := []struct {
		name   string
		damage func(t *testing.T, sp string)
		want   string
	}{
		{"metadata missing", func(t *testing.T, sp string) { os.Remove(meta(sp)) }, "is not a savepoint: no _metadata.json"},
		{"metadata empty", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte { return nil })
		}, "_metadata.json is truncated or malformed"},
		{"metadata truncated", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte { return b[:len(b)/2] })
		}, "_metadata.json is truncated or malformed"},
		{"metadata truncated by its last byte", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte { return b[:len(b)-2] })
		}, "_metadata.json is truncated or malformed"},
		{"metadata entries edited", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"entries": 2`, `"entries": 3`, 1))
			})
		}, "_metadata.json: checksum mismatch (edited or corrupted)"},
		{"metadata pipeline edited", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"motion-alarm"`, `"motion-alarn"`, 1))
			})
		}, "_metadata.json: checksum mismatch"},
		{"metadata checksum removed", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte {
				i := strings.LastIndex(string(b), `,`)
				return append(b[:i:i], "\n}\n"...)
			})
		}, "_metadata.json has no checksum"},
		{"metadata unknown field", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte { return append([]byte(`{"extra": 1,`), b[1:]...) })
		}, "_metadata.json is malformed"},
		{"metadata newer format", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte {
				return []byte(strings.Replace(string(b), `"format_version": 2`, `"format_version": 3`, 1))
			})
		}, "unsupported format version 3"},
		{"metadata trailing garbage", func(t *testing.T, sp string) {
			rewrite(t, meta(sp), func(b []byte) []byte { return append(b, "{}"...) })
		}, "_metadata.json is truncated or malformed: invalid character"},
		{"metadata replaced by a directory", func(t *testing.T, sp string) {
			os.Remove(meta(sp))
			os.Mkdir(meta(sp), 0o755)
		}, "_metadata.json is not a regular file but a directory"},
		{"metadata a named pipe", func(t *testing.T, sp string) {
			os.Remove(meta(sp))
			if err := syscall.Mkfifo(meta(sp), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "_metadata.json is not a regular file but a named pipe"},
		{"metadata a link to /dev/zero", func(t *testing.T, sp string) {
			os.Remove(meta(sp))
			if err := os.Symlink("/dev/zero", meta(sp)); err != nil {
				t.Fatal(err)
			}
		}, "_metadata.json is a symbolic link"},
		{"metadata too large", func(t *testing.T, sp string) {
			if err := os.Truncate(meta(sp), maxMetadataSize+1); err != nil {
				t.Fatal(err)
			}
		}, "more than the 8388608 a savepoint's may hold"},
		{"data file a link out", func(t *testing.T, sp string) {
			outside := filepath.Join(t.TempDir(), "state-0001.bin")
			if err := os.Rename(data(sp), outside); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, data(sp)); err != nil {
				t.Fatal(err)
			}
		}, "data file state-0001.bin is a symbolic link"},
		{"data file missing", func(t *testing.T, sp string) { os.Remove(data(sp)) }, "data file state-0001.bin is missing"},
		{"data file truncated", func(t *testing.T, sp string) {
			rewrite(t, data(sp), func(b []byte) []byte { return b[:len(b)-1] })
		}, "data file state-0001.bin: size"},
		{"data file emptied", func(t *testing.T, sp string) {
			rewrite(t, data(sp), func(b []byte) []byte { return nil })
		}, "data file state-0001.bin: size 0"},
		{"data file extended", func(t *testing.T, sp string) {
			rewrite(t, data(sp), func(b []byte) []byte { return append(b, 0) })
		}, "data file state-0001.bin: size"},
		{"data file byte flipped", func(t *testing.T, sp string) {
			rewrite(t, data(sp), func(b []byte) []byte { b[headerSize+3] ^= 0x20; return b })
		}, "data file state-0001.bin: checksum mismatch (truncated or corrupted)"},
		{"data file header flipped", func(t *testing.T, sp string) {
			rewrite(t, data(sp), func(b []byte) []byte { b[0] ^= 1; return b })
		}, "data file state-0001.bin: checksum mismatch"},
		{"empty data file flipped", func(t *testing.T, sp string) {
			rewrite(t, filepath.Join(sp, "state-0004.bin"), func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
		}, "data file state-0004.bin: checksum mismatch"},
		{"data files swapped", func(t *testing.T, sp string) {
			os.Rename(data(sp), filepath.Join(sp, "tmp"))
			os.Rename(filepath.Join(sp, "state-0002.bin"), data(sp))
			os.Rename(filepath.Join(sp, "tmp"), filepath.Join(sp, "state-0002.bin"))
		}, "data file state-0001.bin: size"},
		{"data file replaced by a directory", func(t *testing.T, sp string) {
			os.Remove(data(sp))
			os.Mkdir(data(sp), 0o755)
		}, "data file state-0001.bin is not a regular file"},
		{"unexpected file", func(t *testing.T, sp string) {
			os.WriteFile(filepath.Join(sp, "state-0099.bin"), nil, 0o644)
		}, "unexpected state-0099.bin in the savepoint directory"},
		{"unexpected temp dir inside", func(t *testing.T, sp string) {
			os.Mkdir(filepath.Join(sp, ".savepoint-0a1b2c-000000000000"), 0o755)
		}, "unexpected .savepoint-0a1b2c-000000000000 in the savepoint directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := writeSavepoint(t, t.TempDir(), testMeta(), corruptData)
			tt.damage(t, sp)
			_, err := Open(sp)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Open = %v, want ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "savepoint "+sp+": ") && !strings.HasPrefix(err.Error(), sp+" is not a savepoint") {
				t.Errorf("error %q does not start with the savepoint path", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenRefusesForeignPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{dir, "is not a savepoint: no _metadata.json"},
		{file, "is not a savepoint: neither a directory nor a _metadata.json"},
	}
	for _, tt := range tests {
		if _, err := Open(tt.path); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want ErrInvalid with %q", tt.path, err, tt.want)
		}
	}
}

// rawDataFile builds a data file from an encoded body, with a correct CRC unless crcDelta.
func rawDataFile(body []byte, count uint64, crcDelta uint32) []byte {
	b := append(appendHeader(nil, FormatVersion1), body...)
	return appendFooter(b, count, crc32.Checksum(b, castagnoli)+crcDelta)
}

// rawEntry encodes one entry with an arbitrary key group.
func rawEntry(kg uint64, key, value string) []byte {
	b := binary.AppendUvarint(nil, kg)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// TestReadStateRefusesDamage feeds ReadState and MapState data files that passed no checksum (as if the
// metadata had been forged to match) and expects each to be refused with ErrInvalid.
func TestReadStateRefusesDamage(t *testing.T) {
	e1, e2 := rawEntry(1, "a", "x"), rawEntry(1, "b", "y")
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	valid := rawDataFile(cat(e1, e2), 2, 0)
	tests := []struct {
		name    string
		file    []byte
		entries int64
		want    string
	}{
		{"valid", valid, 2, ""},
		{"too short", valid[:headerSize+footerSize-1], 2, "shorter than header and footer"},
		{"bad magic", append([]byte("XCTLSAVE"), valid[8:]...), 2, "bad magic"},
		{"newer data version", append(append([]byte(dataMagic), 3, 0, 0, 0), valid[headerSize:]...), 2, "unsupported data format version 3"},
		{"entry cut", rawDataFile(cat(e1, e2[:3]), 2, 0), 2, "unexpected EOF"},
		{"footer count", rawDataFile(cat(e1, e2), 3, 0), 2, "footer counts 3 entries, file holds 2"},
		{"crc", rawDataFile(cat(e1, e2), 2, 1), 2, "CRC mismatch"},
		{"footer magic", append(valid[:len(valid)-1:len(valid)-1], 'X'), 2, "bad footer magic"},
		{"footer cut", valid[:len(valid)-3], 2, ""},
		{"out of order", rawDataFile(cat(e2, e1), 2, 0), 2, "entry 1 is out of order"},
		{"duplicate key", rawDataFile(cat(e1, e1), 2, 0), 2, "entry 1 is out of order"},
		{"key group out of range", rawDataFile(rawEntry(65536, "a", "x"), 1, 0), 1, "key group 65536 is out of range"},
		{"key group past max_parallelism", rawDataFile(rawEntry(128, "a", "x"), 1, 0), 1, "key group 128 is out of range (max_parallelism 128)"},
		{"key longer than the file", rawDataFile(append([]byte{1, 0xff, 0xff, 0xff, 0x7f}, "a"...), 1, 0), 1, "key length 268435455 is out of range"},
		{"metadata count", valid, 3, "holds 2 entries of 4 bytes, metadata says 3 of 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "state-0001.bin"), tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			sp := &Savepoint{Path: dir, Meta: &Metadata{MaxParallelism: 128, Operators: []OperatorMeta{{UID: "u", States: []StateMeta{
				{Name: "s", File: "state-0001.bin", Size: int64(len(tt.file)), Entries: tt.entries, Bytes: 4},
			}}}}}
			err := sp.ReadState("u", "s", func(uint16, []byte, []byte) error { return nil })
			switch {
			case tt.name == "valid":
				if err != nil {
					t.Fatalf("ReadState(valid) = %v", err)
				}
			case !errors.Is(err, ErrInvalid):
				t.Fatalf("ReadState = %v, want ErrInvalid", err)
			case !strings.Contains(err.Error(), "data file state-0001.bin") || !strings.Contains(err.Error(), tt.want):
				t.Errorf("ReadState = %q, want it to name the file and contain %q", err, tt.want)
			}
			// MapState refuses the same files (its messages differ for framing errors).
			m, err := sp.MapState("u", "s")
			switch {
			case tt.name == "valid":
				if err != nil {
					t.Fatalf("MapState(valid) = %v", err)
				}
				defer m.Unmap()
				if len(m.Offsets) != 2 || m.KeyGroup(1) != 1 || len(m.Range(1, 2)) != 2 || len(m.Range(2, 3)) != 0 {
					t.Errorf("MapState(valid): offsets %v", m.Offsets)
				}
			case !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "data file state-0001.bin"):
				t.Fatalf("MapState = %v, want ErrInvalid naming the file", err)
			}
		})
	}
}
