package savepoints

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestCreateRejectsBadJobID(t *testing.T) {
	for _, id := range []string{"", "0a1b2", "0A1B2C3D", "zz1b2c3d"} {
		if w, err := Create(t.TempDir(), id); err == nil {
			w.Abort()
			t.Errorf("Create(job %q) succeeded", id)
		}
	}
}

func TestAddRefusesUnsortedEntries(t *testing.T) {
	tests := []struct {
		name        string
		first, next entry
	}{
		{"same key twice", entry{1, []byte("a"), nil}, entry{1, []byte("a"), nil}},
		{"lower key", entry{1, []byte("b"), nil}, entry{1, []byte("a"), nil}},
		{"lower key group", entry{2, []byte("a"), nil}, entry{1, []byte("z"), nil}},
		{"prefix after longer key", entry{1, []byte("ab"), nil}, entry{1, []byte("a"), nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sw := aggState(t)
			if err := sw.Add(tt.first.KG, tt.first.Key, tt.first.Value); err != nil {
				t.Fatal(err)
			}
			if err := sw.Add(tt.next.KG, tt.next.Key, tt.next.Value); err == nil || !strings.Contains(err.Error(), "is not after") {
				t.Errorf("Add out of order = %v, want an order error", err)
			}
		})
	}
}

func TestCommitFailuresRemoveTempDir(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *Writer, meta *Metadata) error
		want  string
	}{
		{"state not in metadata", func(w *Writer, meta *Metadata) error {
			_, err := w.State("ghost", "s")
			return err
		}, "ghost/s has a data file but is not in the metadata"},
		{"duplicate uid", func(w *Writer, meta *Metadata) error {
			meta.Operators = append(meta.Operators, meta.Operators[0])
			return nil
		}, `uid "events" appears twice`},
		{"duplicate state", func(w *Writer, meta *Metadata) error {
			meta.Operators[3].States = append(meta.Operators[3].States, meta.Operators[3].States[0])
			return nil
		}, `state "agg" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w, err := Create(dir, testJobID)
			if err != nil {
				t.Fatal(err)
			}
			meta := testMeta()
			if err := tt.setup(w, meta); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Commit(meta); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Commit = %v, want an error with %q", err, tt.want)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("after a failed Commit the savepoint dir holds %v", names)
			}
			if _, err := w.Commit(meta); !errors.Is(err, errWriterDone) {
				t.Errorf("second Commit = %v, want errWriterDone", err)
			}
		})
	}
}

func TestStateTwice(t *testing.T) {
	w, err := Create(t.TempDir(), testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := w.State("per-room", "agg"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.State("per-room", "agg"); err == nil {
		t.Error("second State of the same state succeeded")
	}
}

func TestAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.State("per-room", "agg")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Add(1, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("after Abort the savepoint dir holds %v", names)
	}
	if err := sw.Add(2, []byte("k"), nil); err == nil {
		t.Error("Add after Abort succeeded")
	}
	if _, err := w.State("a", "b"); !errors.Is(err, errWriterDone) {
		t.Errorf("State after Abort = %v, want errWriterDone", err)
	}
}

func TestAbortAfterCommitKeepsSavepoint(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	path, err := w.Commit(testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err != nil {
		t.Errorf("Open after Abort of a committed writer: %v", err)
	}
}

// TestCrashMidWrite leaves a savepoint written but not committed, as a kill would: the
// savepoint dir shows only the hidden directory and Open refuses it, complete or not.
func TestCrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.State("per-room", "agg")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Add(1, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	// No Commit: the process "dies" here.
	names := dirNames(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".savepoint-0a1b2c-") {
		t.Fatalf("savepoint dir holds %v, want only the hidden directory", names)
	}
	for _, path := range []string{w.TempPath(), dir} {
		if _, err := Open(path); !errors.Is(err, ErrInvalid) {
			t.Errorf("Open(%s) = %v, want ErrInvalid", path, err)
		}
	}

	// Even a complete savepoint under a hidden name (killed between metadata and rename).
	done := writeSavepoint(t, t.TempDir(), testMeta(), nil)
	hidden := filepath.Join(filepath.Dir(done), "."+filepath.Base(done))
	if err := os.Rename(done, hidden); err != nil {
		t.Fatal(err)
	}
	_, err = Open(hidden)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "still being written") {
		t.Errorf("Open(complete hidden dir) = %v, want ErrInvalid", err)
	}
}

func TestStateWriterCloseEarly(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.State("per-room", "agg")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Add(1, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := sw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Add(2, []byte("k"), nil); !errors.Is(err, errStateClosed) {
		t.Errorf("Add after Close = %v, want errStateClosed", err)
	}
	path, err := w.Commit(testMeta())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dirNames(t, path), "state-0001.bin") {
		t.Errorf("savepoint lacks the early-closed data file")
	}
}

// TestConcurrentStates writes several states from several goroutines, as subtasks would.
func TestConcurrentStates(t *testing.T) {
	meta := testMeta()
	meta.MaxParallelism = 1000
	w, err := Create(t.TempDir(), testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, id := range []stateID{{"alarm-evaluator", "alarm"}, {"alarm-evaluator", "history"}, {"alarm-evaluator", "seen"}, {"per-room", "agg"}} {
		wg.Go(func() {
			sw, err := w.State(id.uid, id.name)
			if err != nil {
				errs <- err
				return
			}
			for i := range 1000 {
				if err := sw.Add(uint16(i), []byte(id.name), []byte(id.uid)); err != nil {
					errs <- err
					return
				}
			}
			errs <- sw.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sp := commitOpen(t, w, meta)
	for _, op := range sp.Meta.Operators {
		for _, st := range op.States {
			if got := readAll(t, sp, op.UID, st.Name); len(got) != 1000 || string(got[999].Value) != op.UID {
				t.Errorf("%s/%s: read %d entries", op.UID, st.Name, len(got))
			}
		}
	}
}

// TestCreateRemovesStaleTemps: the hidden directory of a writer that died mid-write (nobody
// holds its lock) is removed by the next savepoint into the directory; a live writer's is not.
func TestCreateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".savepoint-0a1b2c-000000000000")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "state-0001.bin"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	live, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stale temp directory is still there: %v", err)
	}
	next, err := Create(dir, testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Abort()
	if _, err := os.Stat(live.TempPath()); err != nil {
		t.Errorf("a live writer's directory was removed: %v", err)
	}
}
