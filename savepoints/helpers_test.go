package savepoints

import (
	"bytes"
	"os"
	"testing"
	"time"
)

const testJobID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

// entry is one (key group, key, value) of a state.
type entry struct {
	KG         uint16
	Key, Value []byte
}

// stateData maps a state to its entries, in file order.
type stateData map[stateID][]entry

// testMeta returns the metadata of a small pipeline: two sources, a keyed process operator
// with three states (one with a TTL), a sum and a sink.
func testMeta() *Metadata {
	return &Metadata{
		JobID:          testJobID,
		Pipeline:       "motion-alarm",
		Created:        time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC),
		Trigger:        "stop",
		PipelineYAML:   "name: motion-alarm\n",
		PipelineSHA256: "sha256:0123",
		MaxParallelism: 128,
		Operators: []OperatorMeta{
			{UID: "events", Kind: "file", Parallelism: 1, Offsets: map[string]int64{"/data/b.jsonl": 0, "/data/a.jsonl": 1234}},
			{UID: "ticks", Kind: "generator", Parallelism: 1, Offsets: map[string]int64{"next": 42}},
			{UID: "alarm-evaluator", Kind: "process", Parallelism: 2, KeyType: "string", States: []StateMeta{
				{Name: "alarm", Kind: "value", Schema: "{active: bool, time: int}", KeyType: "string"},
				{Name: "history", Kind: "list", Schema: "list<{time: int}>", KeyType: "string"},
				{Name: "seen", Kind: "map", Schema: "map<string, int>", KeyType: "string", TTLMs: 3600000},
			}},
			{UID: "per-room", Kind: "sum", Parallelism: 2, KeyType: "int", States: []StateMeta{
				{Name: "agg", Kind: "internal", Schema: "{room: int, n: int}", KeyType: "int"},
			}},
			{UID: "out", Kind: "file", Parallelism: 1, Offsets: map[string]int64{"/data/out.jsonl": 77}},
		},
	}
}

// writeSavepoint writes a savepoint of meta holding data into dir and returns its path.
func writeSavepoint(t testing.TB, dir string, meta *Metadata, data stateData) string {
	t.Helper()
	w, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for i := range meta.Operators {
		for _, st := range meta.Operators[i].States {
			id := stateID{meta.Operators[i].UID, st.Name}
			entries, ok := data[id]
			if !ok {
				continue // Commit writes an empty data file
			}
			sw, err := w.State(id.uid, id.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := sw.Add(e.KG, e.Key, e.Value); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	path, err := w.Commit(meta)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads every entry of a state.
func readAll(t testing.TB, sp *Savepoint, uid, name string) []entry {
	t.Helper()
	var got []entry
	err := sp.ReadState(uid, name, func(kg uint16, key, value []byte) error {
		got = append(got, entry{kg, bytes.Clone(key), bytes.Clone(value)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// dirNames lists the names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

// aggState starts a savepoint in a temporary directory and the data file of testMeta's
// "per-room"/"agg" state; the writer is aborted when the test ends unless it was committed.
func aggState(t *testing.T) (*Writer, *StateWriter) {
	t.Helper()
	w, err := Create(t.TempDir(), testJobID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Abort() })
	sw, err := w.State("per-room", "agg")
	if err != nil {
		t.Fatal(err)
	}
	return w, sw
}

// commitOpen commits w with meta and opens (verifies) the savepoint.
func commitOpen(t *testing.T, w *Writer, meta *Metadata) *Savepoint {
	t.Helper()
	path, err := w.Commit(meta)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}
