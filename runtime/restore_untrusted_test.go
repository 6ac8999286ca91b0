package runtime

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/statebackend"
)

// TestRestoreRefusesUndecodableValue: a savepoint whose checksums match but whose stored value
// does not decode with its schema (forged, or written by a broken tool) fails the restore
// naming the uid, the state and the key: before the job starts when the state is loaded
// (memory), while the job runs when it is served lazily (badger), which checks every value
// in the background.
func TestRestoreRefusesUndecodableValue(t *testing.T) {
	for _, kind := range []string{statebackend.KindMemory, statebackend.KindBadger} {
		t.Run(kind, func(t *testing.T) { testRestoreRefusesUndecodableValue(t, kind) })
	}
}

func testRestoreRefusesUndecodableValue(t *testing.T, kind string) {
	h := newHarness(t, kind)
	sp, err := savepoints.Open(firstRun(h, counterV1, jobSpec{}))
	if err != nil {
		t.Fatal(err)
	}
	w, err := savepoints.Create(h.path("forged"), "0a1b2c3d")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	meta := *sp.Meta
	for _, op := range meta.Operators {
		for _, st := range op.States {
			sw, err := w.State(op.UID, st.Name)
			if err != nil {
				t.Fatal(err)
			}
			err = sp.ReadState(op.UID, st.Name, func(kg uint16, key, value []byte) error {
				if op.UID == "out" {
					value = []byte{0xff} // no {n: int, total: int} is one byte long
				}
				return sw.Add(kg, key, value)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	forged, err := w.Commit(&meta)
	if err != nil {
		t.Fatal(err)
	}
	j, err := h.newJob(genPipeline(kv, restoreEvents, counterV1), jobSpec{restore: forged})
	if err == nil {
		if kind == statebackend.KindMemory || j.job.loading.Load() == 0 {
			t.Fatalf("%s: a savepoint with an undecodable value was restored eagerly", kind)
		}
		err = j.start().wait()
	}
	if err == nil {
		t.Fatal("a savepoint with an undecodable value was restored")
	}
	// Served lazily, the job may read the value before the background check reaches it: the
	// read fails then, naming the same.
	wants := []string{`"out"`, `"value"`, `key "a"`, "is not a {n: int, total: int}"}
	if kind == statebackend.KindBadger && !strings.Contains(err.Error(), wants[3]) {
		wants[3] = "decode"
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
