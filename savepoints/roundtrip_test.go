package savepoints

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("v"), 3*bufferSize+17) // larger than the I/O buffers
	many := make([]entry, 5000)
	for i := range many {
		many[i] = entry{uint16(i / 100), []byte(fmt.Sprintf("key-%05d", i)), []byte(strings.Repeat("x", i%50))}
	}
	tests := []struct {
		name string
		data stateData
	}{
		{"no entries anywhere", stateData{}},
		{"one entry", stateData{{"alarm-evaluator", "alarm"}: {{3, []byte("k"), []byte("v")}}}},
		{"empty key and empty value", stateData{{"per-room", "agg"}: {{0, []byte{}, []byte{}}, {0, []byte{0}, nil}}}},
		{"highest key group", stateData{{"per-room", "agg"}: {{0, []byte("a"), []byte("1")}, {127, []byte("a"), []byte("2")}}}},
		{"value larger than the buffers", stateData{{"alarm-evaluator", "history"}: {{1, []byte("k"), big}}}},
		{"many entries in several states", stateData{
			{"alarm-evaluator", "alarm"}: many,
			{"alarm-evaluator", "seen"}:  many[:10],
			{"per-room", "agg"}:          many[4990:],
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := testMeta()
			path := writeSavepoint(t, t.TempDir(), meta, tt.data)
			sp, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if sp.Path != path {
				t.Errorf("Path = %q, want %q", sp.Path, path)
			}
			if !reflect.DeepEqual(sp.Meta, meta) {
				t.Errorf("metadata differs:\nread  %+v\nwrote %+v", sp.Meta, meta)
			}
			for _, op := range sp.Meta.Operators {
				for _, st := range op.States {
					want := tt.data[stateID{op.UID, st.Name}]
					got := readAll(t, sp, op.UID, st.Name)
					if len(got) != len(want) || !reflect.DeepEqual(normalize(got), normalize(want)) {
						t.Errorf("%s/%s: read %d entries, wrote %d (or they differ)", op.UID, st.Name, len(got), len(want))
					}
					var n int64
					for _, e := range want {
						n += int64(len(e.Key) + len(e.Value))
					}
					if st.Entries != int64(len(want)) || st.Bytes != n {
						t.Errorf("%s/%s: metadata says %d entries of %d bytes, wrote %d of %d", op.UID, st.Name, st.Entries, st.Bytes, len(want), n)
					}
				}
			}
		})
	}
}

// normalize makes nil and empty slices equal.
func normalize(es []entry) []entry {
	out := make([]entry, len(es))
	for i, e := range es {
		out[i] = entry{e.KG, append([]byte{}, e.Key...), append([]byte{}, e.Value...)}
	}
	return out
}

func TestCommitFillsMetadata(t *testing.T) {
	meta := testMeta()
	meta.Created = meta.Created.In(time.FixedZone("CEST", 2*3600))
	path := writeSavepoint(t, t.TempDir(), meta, stateData{{"per-room", "agg"}: {{1, []byte("a"), []byte("b")}}})
	name := filepath.Base(path)
	if !regexp.MustCompile(`^savepoint-0a1b2c-[0-9a-f]{12}$`).MatchString(name) {
		t.Errorf("savepoint name %q", name)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"ID", meta.ID, name},
		{"FormatVersion", meta.FormatVersion, FormatVersion},
		{"Created location", meta.Created.Location(), time.UTC},
		{"agg file", meta.Operators[3].States[0].File, "state-0001.bin"},
		{"agg entries", meta.Operators[3].States[0].Entries, int64(1)},
		{"agg bytes", meta.Operators[3].States[0].Bytes, int64(2)},
		{"agg size", meta.Operators[3].States[0].Size, int64(headerSize + 5 + 3 + 4 + footerSizeV2)}, // padding to 4 bytes, index
		{"empty state file", meta.Operators[2].States[0].File, "state-0002.bin"},
		{"metadata checksum set", strings.HasPrefix(meta.Checksum, "sha256:"), true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestOpenAcceptsMetadataPath(t *testing.T) {
	path := writeSavepoint(t, t.TempDir(), testMeta(), nil)
	sp, err := Open(filepath.Join(path, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Path != path {
		t.Errorf("Path = %q, want %q", sp.Path, path)
	}
}

func TestOpenMissingPath(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestReadStateUnknown(t *testing.T) {
	sp, err := Open(writeSavepoint(t, t.TempDir(), testMeta(), nil))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ uid, state, want string }{
		{"nope", "alarm", `no uid "nope" (uids: "alarm-evaluator", "events", "out", "per-room", "ticks")`},
		{"alarm-evaluator", "nope", `uid "alarm-evaluator" has no state "nope" (states: "alarm", "history", "seen")`},
		{"events", "x", `uid "events" has no state "x" (states: none)`},
	}
	for _, tt := range tests {
		err := sp.ReadState(tt.uid, tt.state, func(uint16, []byte, []byte) error { return nil })
		if !errors.Is(err, ErrUnknownState) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadState(%s, %s) = %v, want ErrUnknownState with %q", tt.uid, tt.state, err, tt.want)
		}
	}
}

func TestReadStateStopsOnCallbackError(t *testing.T) {
	sp, err := Open(writeSavepoint(t, t.TempDir(), testMeta(), stateData{{"per-room", "agg"}: {{1, []byte("a"), nil}, {2, []byte("a"), nil}}}))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	err = sp.ReadState("per-room", "agg", func(uint16, []byte, []byte) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("ReadState = %v after %d calls, want the callback's error after 1", err, calls)
	}
}
