package savepoints

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// encode returns the binary encoding of v as a value of the type expression expr.
func encode(t *testing.T, expr string, v any) []byte {
	t.Helper()
	typ, err := schema.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := typ.AppendBinary(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dumpData holds a few keys in each state of testMeta, encoded as the state backend stores
// them (with the write time in front for the state with a TTL), sorted as the writer wants.
func dumpData(t *testing.T) stateData {
	t.Helper()
	kv := func(kg uint16, keyType string, key any, schemaExpr string, value any) entry {
		return entry{kg, encode(t, keyType, key), encode(t, schemaExpr, value)}
	}
	alarm := "{active: bool, time: int}"
	data := stateData{
		{"alarm-evaluator", "alarm"}: {
			kv(5, "string", "kitchen", alarm, map[string]any{"active": true, "time": int64(1700000000000)}),
			kv(9, "string", "hall", alarm, map[string]any{"active": false, "time": int64(5)}),
		},
		{"alarm-evaluator", "history"}: {
			kv(5, "string", "kitchen", "list<{time: int}>", []any{map[string]any{"time": int64(1)}, map[string]any{"time": int64(2)}}),
			kv(9, "string", "hall", "list<{time: int}>", []any{}),
		},
		{"alarm-evaluator", "seen"}: {
			kv(5, "string", "kitchen", "map<string, int>", map[string]any{"motion": int64(3), "door": int64(1)}),
		},
		{"per-room", "agg"}: {
			kv(2, "int", int64(-7), "{room: int, n: int}", map[string]any{"room": int64(-7), "n": int64(1)}),
			kv(2, "int", int64(12), "{room: int, n: int}", map[string]any{"room": int64(12), "n": int64(40)}),
			kv(100, "int", int64(3), "{room: int, n: int}", map[string]any{"room": int64(3), "n": int64(2)}),
		},
	}
	for i, e := range data[stateID{"alarm-evaluator", "seen"}] {
		data[stateID{"alarm-evaluator", "seen"}][i].Value = statebackend.EncodeStored(nil, time.Hour, 1700000000000, e.Value)
	}
	for _, entries := range data {
		slices.SortFunc(entries, func(a, b entry) int {
			if a.KG != b.KG {
				return int(a.KG) - int(b.KG)
			}
			return bytes.Compare(a.Key, b.Key)
		})
	}
	return data
}

func TestDump(t *testing.T) {
	sp := openFixed(t, dumpData(t))
	tests := []struct{ uid, state, golden string }{
		{"alarm-evaluator", "alarm", "dump-alarm.jsonl"},
		{"alarm-evaluator", "history", "dump-history.jsonl"},
		{"alarm-evaluator", "seen", "dump-seen.jsonl"},
		{"per-room", "", "dump-agg.jsonl"}, // the only state of the uid
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := sp.Dump(&buf, tt.uid, tt.state); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", tt.golden), buf.Bytes())
		})
	}
}

func TestDumpErrors(t *testing.T) {
	sp := openFixed(t, dumpData(t))
	tests := []struct{ uid, state, want string }{
		{"nope", "", `the savepoint has no uid "nope" (uids: "alarm-evaluator", "events", "out", "per-room", "ticks")`},
		{"alarm-evaluator", "nope", `uid "alarm-evaluator" has no state "nope" (states: "alarm", "history", "seen")`},
		{"alarm-evaluator", "", `uid "alarm-evaluator" has 3 states, name one with --state (states: "alarm", "history", "seen")`},
		{"events", "", `uid "events" keeps no state in this savepoint: nothing to dump`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := sp.Dump(&buf, tt.uid, tt.state)
		if !errors.Is(err, ErrUnknownState) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dump(%q, %q) = %v, want ErrUnknownState with %q", tt.uid, tt.state, err, tt.want)
		}
		if buf.Len() != 0 {
			t.Errorf("Dump(%q, %q) wrote %q before failing", tt.uid, tt.state, buf.String())
		}
	}
}

func TestDumpUndecodableValue(t *testing.T) {
	meta := testMeta()
	path := writeSavepoint(t, t.TempDir(), meta, stateData{{"per-room", "agg"}: {{1, encode(t, "int", int64(1)), []byte{0xff}}}})
	sp, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = sp.Dump(&bytes.Buffer{}, "per-room", "agg")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "value does not decode as {room: int, n: int}") {
		t.Errorf("Dump of a bad value = %v, want ErrInvalid naming the schema", err)
	}
}
