package statedir

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipectl/pipectl/savepoints"
)

// writeSnapshot commits an empty snapshot into dir, created at the given time.
func writeSnapshot(t *testing.T, dir string, created time.Time) *savepoints.Savepoint {
	t.Helper()
	w, err := savepoints.Create(dir, jobA)
	if err != nil {
		t.Fatal(err)
	}
	path, err := w.Commit(&savepoints.Metadata{JobID: jobA, Pipeline: "p", Created: created, Trigger: "checkpoint", MaxParallelism: 128})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := savepoints.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestResolve(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type setup struct {
		checkpoints int  // complete checkpoints in the state dir, one second apart
		savepoint   bool // the run is given a savepoint
		fresh       bool
	}
	tests := []struct {
		name        string
		setup       setup
		origin      Origin
		fromLatest  bool // the snapshot is the latest checkpoint
		left, after int  // checkpoints left by Resolve, and after PruneStale
	}{
		{name: "empty dir", origin: Empty},
		{name: "resume the latest checkpoint", setup: setup{checkpoints: 2}, origin: FromCheckpoint, fromLatest: true, left: 2, after: 2},
		{name: "fresh discards checkpoints", setup: setup{checkpoints: 2, fresh: true}, origin: Empty},
		{name: "savepoint over checkpoints", setup: setup{checkpoints: 2, savepoint: true}, origin: FromSavepoint, left: 2, after: 0},
		{name: "fresh with a savepoint", setup: setup{checkpoints: 1, savepoint: true, fresh: true}, origin: FromSavepoint},
		{name: "savepoint alone", setup: setup{savepoint: true}, origin: FromSavepoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stateDir := t.TempDir()
			var latest *savepoints.Savepoint
			for i := range tt.setup.checkpoints {
				latest = writeSnapshot(t, CheckpointDir(stateDir), base.Add(time.Duration(i)*time.Second))
			}
			// Debris of a checkpoint being written is neither resumed nor counted.
			if err := os.MkdirAll(filepath.Join(CheckpointDir(stateDir), ".partial"), 0o700); err != nil {
				t.Fatal(err)
			}
			var sp *savepoints.Savepoint
			if tt.setup.savepoint {
				sp = writeSnapshot(t, filepath.Join(t.TempDir(), "savepoints"), base)
			}
			start, err := Resolve(stateDir, tt.setup.fresh, sp)
			if err != nil {
				t.Fatal(err)
			}
			if start.Origin != tt.origin {
				t.Errorf("origin %v, want %v", start.Origin, tt.origin)
			}
			switch {
			case tt.origin == Empty && start.Snapshot != nil:
				t.Errorf("snapshot %s, want none", start.Snapshot.Path)
			case tt.origin == FromSavepoint && start.Snapshot != sp:
				t.Errorf("snapshot %v, want the savepoint given", start.Snapshot)
			case tt.fromLatest && (start.Snapshot == nil || start.Snapshot.Path != latest.Path):
				t.Errorf("snapshot %v, want the latest checkpoint %s", start.Snapshot, latest.Path)
			}
			if n := countComplete(t, stateDir); n != tt.left {
				t.Errorf("%d checkpoints after Resolve, want %d", n, tt.left)
			}
			start.PruneStale()
			start.PruneStale() // once
			if n := countComplete(t, stateDir); n != tt.after {
				t.Errorf("%d checkpoints after PruneStale, want %d", n, tt.after)
			}
		})
	}
	var none *Start
	none.PruneStale() // a nil Start does nothing
}

// countComplete counts the complete checkpoints of stateDir.
func countComplete(t *testing.T, stateDir string) int {
	t.Helper()
	return len(completeCheckpoints(CheckpointDir(stateDir)))
}

func TestRemoveStaleDatabases(t *testing.T) {
	stateDir := t.TempDir()
	keep, stale, open := DatabaseDir(stateDir, jobA), DatabaseDir(stateDir, jobB), DatabaseDir(stateDir, jobC)
	for _, d := range []string{keep, stale, open, CheckpointDir(stateDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// An open database holds a flock on its directory, as Badger does.
	f, err := os.Open(open)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := flockDir(f); err != nil {
		t.Fatal(err)
	}
	RemoveStaleDatabases(stateDir, keep)
	for d, want := range map[string]bool{keep: true, stale: false, open: true, CheckpointDir(stateDir): true} {
		if _, err := os.Stat(d); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(d), err == nil, want)
		}
	}
}
